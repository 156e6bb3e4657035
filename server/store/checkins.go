package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/server/api"
)

// Check-ins (a report saying "inventory unchanged") are tiny: on their own,
// each would pay a whole transaction commit. Concurrent check-ins are
// therefore group-committed: one goroutine applies every check-in waiting
// at that moment in one transaction and answers each caller after the
// commit, so an acknowledged check-in is as durable as any report.

// maxCheckinBatch bounds the check-ins of one transaction.
const maxCheckinBatch = 512

// errClosed is returned for work submitted to a closed store.
var errClosed = errors.New("store closed")

type checkinReq struct {
	ctx  context.Context
	in   ReportInput
	done chan checkinRes
}

type checkinRes struct {
	res ReportResult
	err error
}

// startCheckins starts the group-commit goroutine; Close stops it.
func (s *Store) startCheckins() {
	s.checkins = make(chan checkinReq, maxCheckinBatch)
	s.quit = make(chan struct{})
	s.stopped = make(chan struct{})
	go func() {
		defer close(s.stopped)
		for {
			var batch []checkinReq
			select {
			case r := <-s.checkins:
				batch = append(batch, r)
			case <-s.quit:
				return
			}
		drain:
			for len(batch) < maxCheckinBatch {
				select {
				case r := <-s.checkins:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			s.applyCheckins(batch)
		}
	}()
}

// checkin submits one check-in and waits for its commit.
func (s *Store) checkin(ctx context.Context, in ReportInput) (ReportResult, error) {
	req := checkinReq{ctx: ctx, in: in, done: make(chan checkinRes, 1)}
	select {
	case s.checkins <- req:
	case <-s.quit:
		return ReportResult{}, errClosed
	case <-ctx.Done():
		return ReportResult{}, ctx.Err()
	}
	select {
	case r := <-req.done:
		return r.res, r.err
	case <-s.stopped:
		return ReportResult{}, errClosed
	case <-ctx.Done(): // it may still be applied: the agent's retry is then a duplicate
		return ReportResult{}, ctx.Err()
	}
}

// applyCheckins applies a batch in one transaction; when that fails, each
// check-in is retried alone so one bad check-in cannot fail the others.
func (s *Store) applyCheckins(batch []checkinReq) {
	now := s.now()
	live := batch[:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- checkinRes{err: err}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	results := make([]ReportResult, len(live))
	err := s.inTx(context.Background(), func(tx *sql.Tx) error {
		if s.d == sqldb.Postgres {
			return pgCheckins(context.Background(), tx, live, now, results)
		}
		st, err := prepareCheckin(context.Background(), tx)
		if err != nil {
			return err
		}
		defer st.close()
		for i, r := range live {
			if results[i], err = st.apply(context.Background(), r.in, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		for i, r := range live {
			r.done <- checkinRes{res: results[i]}
		}
		return
	}
	for _, r := range live {
		var res ReportResult
		err := s.inTx(r.ctx, func(tx *sql.Tx) error {
			st, err := prepareCheckin(r.ctx, tx)
			if err != nil {
				return err
			}
			defer st.close()
			res, err = st.apply(r.ctx, r.in, now)
			return err
		})
		if err != nil {
			err = fmt.Errorf("apply report %s: %w", r.in.Report.ReportID, err)
		}
		r.done <- checkinRes{res: res, err: err}
	}
}

// checkinStmts are the prepared statements of check-ins in one transaction.
type checkinStmts struct{ rep, host *sql.Stmt }

func prepareCheckin(ctx context.Context, tx *sql.Tx) (*checkinStmts, error) {
	rep, err := tx.PrepareContext(ctx, `INSERT INTO reports (host_id, report_id, kind, received_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (host_id, report_id) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("prepare check-in: %w", err)
	}
	host, err := tx.PrepareContext(ctx, `UPDATE hosts SET last_checkin_at = ?, last_report_id = ? WHERE id = ? RETURNING inventory_hash`)
	if err != nil {
		rep.Close()
		return nil, fmt.Errorf("prepare check-in: %w", err)
	}
	return &checkinStmts{rep, host}, nil
}

func (c *checkinStmts) close() {
	c.rep.Close()
	c.host.Close()
}

// apply records one check-in: the report id (a repeat is a duplicate) and
// the host's check-in time; NeedFull when the inventory hash is not the
// stored one.
func (c *checkinStmts) apply(ctx context.Context, in ReportInput, now time.Time) (ReportResult, error) {
	var res ReportResult
	r, err := c.rep.ExecContext(ctx, in.Host.ID, in.Report.ReportID, api.ReportCheckin, now.UnixNano())
	if err != nil {
		return res, fmt.Errorf("record report: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		res.Duplicate = true
		return res, nil
	}
	var hash string
	if err := c.host.QueryRowContext(ctx, now.UnixNano(), in.Report.ReportID, in.Host.ID).Scan(&hash); err != nil {
		return res, fmt.Errorf("check in: %w", err)
	}
	res.NeedFull = hash == "" || hash != in.Report.InventoryHash
	return res, nil
}

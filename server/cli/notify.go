package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/eolwatch/eolwatch/notifier"
)

// openNotifier opens the server's database and a notifier on it (no
// SMTP: the running server delivers).
func openNotifier(ctx context.Context, loc *storeLocation) (*notifier.Service, func(), error) {
	st, err := loc.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := notifier.Migrate(ctx, st.DB()); err != nil {
		st.Close()
		return nil, nil, err
	}
	n, err := notifier.New(ctx, st.DB(), st.Reader(), notifier.Config{Logger: discardLogger()})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return n, func() { st.Close() }, nil
}

func runGroup(ctx context.Context, args []string, io Stdio) error {
	if len(args) == 0 {
		return usageErrorf("group: want create, list or delete")
	}
	fs := flag.NewFlagSet("group "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Err)
	loc := storeFlags(fs)
	name := fs.String("name", "", "group name (a-z, 0-9, '.', '_', '-')")
	var products, cycles, events commaList
	fs.Var(&products, "product", "product id covered by the group (repeatable or comma-separated)")
	fs.Var(&cycles, "cycle", "limit to a cycle: 3.12 for every product, python@3.12 for one (repeatable)")
	fs.Var(&events, "events", "event kinds: release, eol, fleet (comma-separated)")
	if err := fs.Parse(args[1:]); err != nil {
		return flagError(err)
	}
	switch args[0] {
	case "create":
		if fs.NArg() > 0 {
			return usageErrorf("group create: unexpected argument %q (use --name)", fs.Arg(0))
		}
	case "list":
	case "delete":
		if fs.NArg() != 1 {
			return usageErrorf("group delete: want one group name")
		}
	default:
		return usageErrorf("group: unknown subcommand %q: want create, list or delete", args[0])
	}
	n, closeFn, err := openNotifier(ctx, loc)
	if err != nil {
		return err
	}
	defer closeFn()
	switch args[0] {
	case "create":
		g, err := n.CreateGroup(ctx, notifier.Group{Name: *name, Products: products, Cycles: cycles, Events: events})
		if err != nil {
			return invalidInput("group create", err)
		}
		fmt.Fprintf(io.Out, "created group %s: products %s, events %s\n", g.Name, strings.Join(g.Products, ","), strings.Join(g.Events, ","))
	case "list":
		gs, _, err := n.ListGroups(ctx, notifier.Page{Limit: 1000})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tPRODUCTS\tCYCLES\tEVENTS\tCONFIRMED\tPENDING\tUNSUBSCRIBED")
		for _, g := range gs {
			cyc := strings.Join(g.Cycles, ",")
			if cyc == "" {
				cyc = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", g.Name, strings.Join(g.Products, ","), cyc, strings.Join(g.Events, ","),
				g.Confirmed, g.Pending, g.Unsubscribed)
		}
		return tw.Flush()
	case "delete":
		if err := n.DeleteGroup(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintf(io.Out, "deleted group %s\n", fs.Arg(0))
	}
	return nil
}

func runSubscription(ctx context.Context, args []string, io Stdio) error {
	if len(args) == 0 || args[0] != "list" {
		return usageErrorf("subscription: want list")
	}
	fs := flag.NewFlagSet("subscription list", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	loc := storeFlags(fs)
	group := fs.String("group", "", "only this group")
	state := fs.String("state", "", "only this state: pending, confirmed or unsubscribed")
	limit := fs.Int("limit", 100, "at most this many, newest first")
	if err := fs.Parse(args[1:]); err != nil {
		return flagError(err)
	}
	n, closeFn, err := openNotifier(ctx, loc)
	if err != nil {
		return err
	}
	defer closeFn()
	subs, total, err := n.ListSubscriptions(ctx, notifier.SubscriptionFilter{Group: *group, State: *state, Page: notifier.Page{Limit: *limit}})
	if err != nil {
		return invalidInput("subscription list", err)
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tGROUP\tEMAIL\tSTATE\tMODE\tLEVELS\tCREATED")
	for _, s := range subs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Group, s.Email, s.State, s.Prefs.Mode, strings.Join(s.Prefs.Levels, ","),
			s.Created.Format("2006-01-02 15:04"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(io.Err, "%d of %d subscriptions\n", len(subs), total)
	return nil
}

func runOutbox(ctx context.Context, args []string, io Stdio) error {
	if len(args) == 0 || args[0] != "list" {
		return usageErrorf("outbox: want list")
	}
	fs := flag.NewFlagSet("outbox list", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	loc := storeFlags(fs)
	state := fs.String("state", "", "only this state: pending, sent, failed or cancelled")
	limit := fs.Int("limit", 100, "at most this many, newest first")
	if err := fs.Parse(args[1:]); err != nil {
		return flagError(err)
	}
	n, closeFn, err := openNotifier(ctx, loc)
	if err != nil {
		return err
	}
	defer closeFn()
	es, counts, _, err := n.ListOutbox(ctx, notifier.OutboxFilter{State: *state, Page: notifier.Page{Limit: *limit}})
	if err != nil {
		return invalidInput("outbox list", err)
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tTO\tSTATE\tATTEMPTS\tCREATED\tSUBJECT\tSMTP ANSWER")
	for _, e := range es {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", e.ID, e.Kind, e.Recipient, e.State, e.Attempts, e.Created.Format("2006-01-02 15:04"),
			e.Subject, e.LastError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(io.Err, "pending %d, sent %d, failed %d, cancelled %d\n", counts.Pending, counts.Sent, counts.Failed, counts.Cancelled)
	return nil
}

package service

import (
	"context"
	"slices"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/contract"
	"github.com/eolwatch/eolwatch/server/store"
)

// CustomerStore is what customers, the ticket check and the contract mail
// need from storage. server/store.Store implements it; methods are safe for
// concurrent use and report a missing customer as store.ErrNotFound and a
// taken name as store.ErrDuplicateName.
type CustomerStore interface {
	// CreateCustomer stores a validated customer with its enroll secret's hash.
	CreateCustomer(ctx context.Context, spec api.CustomerSpec, secretHash string) (api.Customer, error)
	// Customer finds a customer by id or name (ignoring case).
	Customer(ctx context.Context, ref string) (api.Customer, error)
	// ListCustomers lists every customer by name.
	ListCustomers(ctx context.Context) ([]api.Customer, error)
	// UpdateCustomer replaces a customer's spec, and its secret's hash when
	// secretHash is not empty.
	UpdateCustomer(ctx context.Context, id string, spec api.CustomerSpec, secretHash string) (api.Customer, error)
	// DeleteCustomer deletes a customer; with hosts only when force
	// (detaching them), else store.ErrHasHosts.
	DeleteCustomer(ctx context.Context, id string, force bool) (int, error)
	// EachNonCompliant calls fn for each install of the scope's hosts that
	// is not eligible for support, by hostname (the weekly risk digest).
	EachNonCompliant(ctx context.Context, sc store.Scope, fn func(store.NonCompliantInstall) error) error
	// CustomerMailSent reports whether the mail (kind, period) of a
	// customer was queued already; MarkCustomerMail records that it was.
	CustomerMailSent(ctx context.Context, customerID, kind, period string) (bool, error)
	MarkCustomerMail(ctx context.Context, customerID, kind, period string, recipients int) error
}

// customers returns the customer store, or a fault.Unavailable error.
func (s *Service) customers() (CustomerStore, error) {
	if s.cfg.Customers == nil {
		return nil, fault.New(fault.Unavailable, "customer", "customers need the server's database")
	}
	return s.cfg.Customers, nil
}

// withState adds the contract's state today (in the customer's zone).
func (s *Service) withState(c api.Customer) api.Customer {
	k, err := contract.New(c.CustomerSpec, contract.Tiers)
	if err != nil { // stored customers are valid; a rule change could make one invalid
		s.log.Warn("stored customer no longer valid", "customer", c.ID, "err", err)
		return c
	}
	st := k.State(k.Today(s.cfg.Now()))
	c.Contract = &st
	return c
}

// CreateCustomer validates and stores a new customer and returns it with
// its enroll secret, shown this once (only its hash is stored). Bad input
// is a fault.Invalid error naming the field; a taken name is a conflict.
func (s *Service) CreateCustomer(ctx context.Context, spec api.CustomerSpec) (api.Customer, error) {
	cs, err := s.customers()
	if err != nil {
		return api.Customer{}, err
	}
	if err := contract.Normalize(&spec, contract.Tiers); err != nil {
		return api.Customer{}, err
	}
	secret := store.NewEnrollSecret()
	c, err := cs.CreateCustomer(ctx, spec, store.HashSecret(secret))
	if err != nil {
		return api.Customer{}, err
	}
	s.log.Info("customer created", "customer", c.ID, "name", c.Name, "tier", c.Tier)
	c = s.withState(c)
	c.EnrollSecret = secret
	return c, nil
}

// Customer returns a customer by id or name, with its contract's state today.
func (s *Service) Customer(ctx context.Context, ref string) (api.Customer, error) {
	cs, err := s.customers()
	if err != nil {
		return api.Customer{}, err
	}
	if err := CheckText("customer", ref, api.MaxCustomerLen, true); err != nil {
		return api.Customer{}, err
	}
	c, err := cs.Customer(ctx, ref)
	if err != nil {
		return api.Customer{}, err
	}
	return s.withState(c), nil
}

// Customers lists every customer, by name, with their contracts' state today.
func (s *Service) Customers(ctx context.Context) ([]api.Customer, error) {
	cs, err := s.customers()
	if err != nil {
		return nil, err
	}
	list, err := cs.ListCustomers(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i] = s.withState(list[i])
	}
	return list, nil
}

// UpdateCustomer applies a patch to a customer (by id or name). Turning
// auto_renew off on a renewing contract records today, in the customer's
// zone, as the day notice of non-renewal was given (unless the patch gives
// the day); turning it on clears the notice. With RotateEnrollSecret the
// answer carries the new secret, once.
func (s *Service) UpdateCustomer(ctx context.Context, ref string, p api.CustomerPatch) (api.Customer, error) {
	cs, err := s.customers()
	if err != nil {
		return api.Customer{}, err
	}
	old, err := s.Customer(ctx, ref)
	if err != nil {
		return api.Customer{}, err
	}
	spec := old.CustomerSpec
	spec.Holidays, spec.Contacts = slices.Clone(spec.Holidays), slices.Clone(spec.Contacts)
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&spec.Name, p.Name)
	set(&spec.Tier, p.Tier)
	set(&spec.ContractStart, p.ContractStart)
	set(&spec.ContractEnd, p.ContractEnd)
	set(&spec.SoldBy, p.SoldBy)
	set(&spec.Timezone, p.Timezone)
	set(&spec.NoticeGiven, p.NoticeGiven)
	if p.BusinessHours != nil {
		spec.BusinessHours = p.BusinessHours
	}
	if p.Holidays != nil {
		spec.Holidays = *p.Holidays
	}
	if p.Contacts != nil {
		spec.Contacts = *p.Contacts
	}
	if p.AutoRenew != nil {
		switch {
		case *p.AutoRenew:
			if p.NoticeGiven == nil {
				spec.NoticeGiven = ""
			}
		case old.AutoRenew && p.NoticeGiven == nil:
			// Notice of non-renewal is given today, in the customer's zone
			// (the zone as patched, when it is valid).
			spec.NoticeGiven = s.todayIn(spec.Timezone, old.Timezone)
		}
		spec.AutoRenew = *p.AutoRenew
	}
	if err := contract.Normalize(&spec, contract.Tiers); err != nil {
		return api.Customer{}, err
	}
	hash, secret := "", ""
	if p.RotateEnrollSecret {
		secret = store.NewEnrollSecret()
		hash = store.HashSecret(secret)
	}
	c, err := cs.UpdateCustomer(ctx, old.ID, spec, hash)
	if err != nil {
		return api.Customer{}, err
	}
	s.log.Info("customer updated", "customer", c.ID, "name", c.Name, "tier", c.Tier, "secret_rotated", p.RotateEnrollSecret)
	c = s.withState(c)
	c.EnrollSecret = secret
	return c, nil
}

// DeleteCustomer deletes a customer (by id or name). A customer with hosts
// is kept (a conflict) unless force, which detaches them; it returns how
// many hosts were detached.
func (s *Service) DeleteCustomer(ctx context.Context, ref string, force bool) (api.Customer, int, error) {
	cs, err := s.customers()
	if err != nil {
		return api.Customer{}, 0, err
	}
	c, err := s.Customer(ctx, ref)
	if err != nil {
		return api.Customer{}, 0, err
	}
	n, err := cs.DeleteCustomer(ctx, c.ID, force)
	if err != nil {
		if fault.Is(err, fault.Conflict) {
			return c, 0, fault.New(fault.Conflict, "force", "customer %s has %d host(s): delete with force=true to detach them (they become hosts of no customer)", c.Name, c.Hosts)
		}
		return c, 0, err
	}
	s.log.Info("customer deleted", "customer", c.ID, "name", c.Name, "detached_hosts", n)
	return c, n, nil
}

// todayIn is today's date (YYYY-MM-DD) in the first of zones that loads.
func (s *Service) todayIn(zones ...string) string {
	now := s.cfg.Now()
	for _, z := range zones {
		if loc, err := time.LoadLocation(z); err == nil && z != "" && z != "Local" {
			return now.In(loc).Format(time.DateOnly)
		}
	}
	return now.UTC().Format(time.DateOnly)
}

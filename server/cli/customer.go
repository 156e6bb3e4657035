package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/contract"
	"github.com/eolwatch/eolwatch/server/service"
	"github.com/eolwatch/eolwatch/server/store"
)

// openDomain opens the server's database and the domain service over it,
// with the server's catalog (the default, extra files, every published
// release); a database that does not exist yet is created only when
// create is set. Close the store when done.
func openDomain(ctx context.Context, loc *storeLocation, files []string, policy catalog.Policy, create bool) (*service.Service, *store.Store, error) {
	if err := loc.resolve(); err != nil {
		return nil, nil, err
	}
	if err := loc.exists(); err != nil && !create {
		return nil, nil, fmt.Errorf("no database in %s (start the server once, or create a token or a customer there first): %w", loc, err)
	}
	st, err := loc.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	log := discardLogger()
	if err := catalogsvc.Migrate(ctx, st.DB()); err != nil {
		st.Close()
		return nil, nil, err
	}
	cats, err := catalogsvc.New(ctx, catalogsvc.Config{Store: catalogsvc.NewSQLStore(st.DB()), Files: files, Logger: log})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	svc, err := service.New(service.Config{Store: st, Customers: st, Catalog: cats.Current, Policy: policy, Logger: log})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return svc, st, nil
}

// customerFlags are the flags of customer create and update, one per field
// of api.CustomerSpec.
type customerFlags struct {
	name, tier, start, end, notice, soldBy, timezone, open, close *string
	autoRenew                                                     *bool
	days, holidays, contacts                                      commaList
}

func addCustomerFlags(fs *flag.FlagSet) *customerFlags {
	f := &customerFlags{
		name:      fs.String("name", "", "customer name (unique, ignoring case)"),
		tier:      fs.String("tier", "", "contract tier: standard, premium, enterprise or success-squad"),
		start:     fs.String("contract-start", "", "first day of the contract's first term, YYYY-MM-DD"),
		end:       fs.String("contract-end", "", "last day of the contract's first term, YYYY-MM-DD"),
		autoRenew: fs.Bool("auto-renew", false, "renew for another year at the end of each term (turning it off gives notice today)"),
		notice:    fs.String("notice-given", "", "day notice of non-renewal was given, YYYY-MM-DD (contracts without auto-renew)"),
		soldBy:    fs.String("sold-by", "", "partner that sold the contract (empty: direct)"),
		timezone:  fs.String("timezone", "", "IANA time zone of the customer's support centre (default UTC)"),
		open:      fs.String("open", "", "business hours open, HH:MM local (default 09:00)"),
		close:     fs.String("close", "", "business hours close, HH:MM local (default 18:00)"),
	}
	fs.Var(&f.days, "days", "working days, comma-separated (default mon,tue,wed,thu,fri)")
	fs.Var(&f.holidays, "holiday", "a holiday of the support centre, YYYY-MM-DD (repeatable or comma-separated)")
	fs.Var(&f.contacts, "contact", "contact email address for contract and risk mail (repeatable or comma-separated)")
	return f
}

// spec is the customer the flags describe (create).
func (f *customerFlags) spec() api.CustomerSpec {
	s := api.CustomerSpec{Name: *f.name, Tier: *f.tier, ContractStart: *f.start, ContractEnd: *f.end, AutoRenew: *f.autoRenew,
		NoticeGiven: *f.notice, SoldBy: *f.soldBy, Timezone: *f.timezone, Holidays: f.holidays, Contacts: f.contacts}
	if len(f.days) > 0 || *f.open != "" || *f.close != "" {
		s.BusinessHours = &api.BusinessHours{Days: f.days, Open: *f.open, Close: *f.close}
		if len(s.BusinessHours.Days) == 0 {
			s.BusinessHours.Days = contract.DefaultDays
		}
		if s.BusinessHours.Open == "" {
			s.BusinessHours.Open = contract.DefaultOpen
		}
		if s.BusinessHours.Close == "" {
			s.BusinessHours.Close = contract.DefaultClose
		}
	}
	return s
}

// patch is the change the flags set on the command line describe (update).
func (f *customerFlags) patch(fs *flag.FlagSet, old api.Customer) api.CustomerPatch {
	var p api.CustomerPatch
	hours := *old.BusinessHours
	hoursSet := false
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "name":
			p.Name = f.name
		case "tier":
			p.Tier = f.tier
		case "contract-start":
			p.ContractStart = f.start
		case "contract-end":
			p.ContractEnd = f.end
		case "auto-renew":
			p.AutoRenew = f.autoRenew
		case "notice-given":
			p.NoticeGiven = f.notice
		case "sold-by":
			p.SoldBy = f.soldBy
		case "timezone":
			p.Timezone = f.timezone
		case "days":
			hours.Days, hoursSet = f.days, true
		case "open":
			hours.Open, hoursSet = *f.open, true
		case "close":
			hours.Close, hoursSet = *f.close, true
		case "holiday":
			h := []string(f.holidays)
			if h == nil {
				h = []string{}
			}
			p.Holidays = &h
		case "contact":
			c := []string(f.contacts)
			if c == nil {
				c = []string{}
			}
			p.Contacts = &c
		}
	})
	if hoursSet {
		p.BusinessHours = &hours
	}
	return p
}

// runCustomer manages customers and their contracts in the server's database.
func runCustomer(ctx context.Context, args []string, stdio Stdio) error {
	if len(args) == 0 {
		return usageErrorf("customer: want create, list, update or delete")
	}
	sub := args[0]
	fs := flag.NewFlagSet("customer "+sub, flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	loc := storeFlags(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	var cf *customerFlags
	var rotate, force *bool
	switch sub {
	case "create":
		cf = addCustomerFlags(fs)
	case "update":
		cf = addCustomerFlags(fs)
		rotate = fs.Bool("rotate-enroll-secret", false, "issue a new enroll secret (printed once); hosts keep their node keys")
	case "delete":
		force = fs.Bool("force", false, "delete a customer that has hosts, detaching them (they become hosts of no customer)")
	case "list":
	default:
		return usageErrorf("customer: unknown subcommand %q: want create, list, update or delete", sub)
	}
	// customer update ACME --tier x: the customer may come before the flags.
	rest, ref := args[1:], ""
	if (sub == "update" || sub == "delete") && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		ref, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return flagError(err)
	}
	if ref == "" && fs.NArg() > 0 && (sub == "update" || sub == "delete") {
		ref = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil { // flags after the name
			return flagError(err)
		}
	}
	switch {
	case fs.NArg() > 0:
		return usageErrorf("customer %s: unexpected argument %q", sub, fs.Arg(0))
	case (sub == "update" || sub == "delete") && ref == "":
		return usageErrorf("customer %s: name the customer (its id or name)", sub)
	}
	svc, st, err := openDomain(ctx, loc, nil, catalog.DefaultPolicy(), sub == "create")
	if err != nil {
		return fmt.Errorf("customer %s: %w", sub, err)
	}
	defer st.Close()
	switch sub {
	case "create":
		return customerCreate(ctx, svc, cf.spec(), *asJSON, stdio)
	case "list":
		cs, err := svc.Customers(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdio.Out, map[string]any{"customers": cs})
		}
		printCustomers(stdio.Out, cs)
		return nil
	case "update":
		return customerUpdate(ctx, svc, ref, func(old api.Customer) api.CustomerPatch {
			p := cf.patch(fs, old)
			p.RotateEnrollSecret = *rotate
			return p
		}, *asJSON, stdio)
	}
	return customerDelete(ctx, svc, ref, *force, *asJSON, stdio)
}

// customerCreate creates a customer and prints its enroll secret alone on
// stdout (or the API's JSON answer).
func customerCreate(ctx context.Context, svc *service.Service, spec api.CustomerSpec, asJSON bool, stdio Stdio) error {
	c, err := svc.CreateCustomer(ctx, spec)
	if err != nil {
		return invalidInput("customer create", err)
	}
	if asJSON {
		return printJSON(stdio.Out, c)
	}
	fmt.Fprintln(stdio.Out, c.EnrollSecret)
	fmt.Fprintf(stdio.Err, "created customer %s (%s, %s); the line above is its enroll secret, shown once: agents that enroll with it belong to %s\n",
		c.Name, c.ID, c.Tier, c.Name)
	return nil
}

// customerUpdate applies the patch the flags make of customer ref; a new
// enroll secret is printed alone on stdout.
func customerUpdate(ctx context.Context, svc *service.Service, ref string, patch func(old api.Customer) api.CustomerPatch, asJSON bool, stdio Stdio) error {
	old, err := svc.Customer(ctx, ref)
	if err != nil {
		return fmt.Errorf("customer update: %w", err)
	}
	c, err := svc.UpdateCustomer(ctx, old.ID, patch(old))
	if err != nil {
		return invalidInput("customer update", err)
	}
	if asJSON {
		return printJSON(stdio.Out, c)
	}
	if c.EnrollSecret != "" {
		fmt.Fprintln(stdio.Out, c.EnrollSecret)
		fmt.Fprintf(stdio.Err, "new enroll secret of %s above, shown once\n", c.Name)
	}
	printCustomers(stdio.Err, []api.Customer{c})
	return nil
}

// customerDelete deletes customer ref; force detaches its hosts.
func customerDelete(ctx context.Context, svc *service.Service, ref string, force, asJSON bool, stdio Stdio) error {
	c, n, err := svc.DeleteCustomer(ctx, ref, force)
	if fe, ok := fault.As(err); ok && fe.Code == fault.Conflict && fe.Field == "force" {
		return fmt.Errorf("customer delete: customer %s has %d host(s): add --force to detach them (they become hosts of no customer)", c.Name, c.Hosts)
	}
	if err != nil {
		return fmt.Errorf("customer delete: %w", err)
	}
	if asJSON {
		return printJSON(stdio.Out, map[string]any{"deleted": true, "id": c.ID, "name": c.Name, "detached_hosts": n})
	}
	fmt.Fprintf(stdio.Err, "deleted customer %s (%s); %d host(s) detached\n", c.Name, c.ID, n)
	return nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printCustomers writes a table of customers.
func printCustomers(w io.Writer, cs []api.Customer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTIER\tCONTRACT\tTERM END\tRENEWS\tHOSTS\tSOLD BY\tTIMEZONE")
	for _, c := range cs {
		status, end, renews := "-", c.ContractEnd, "-"
		if c.Contract != nil {
			status, end, renews = c.Contract.Status, c.Contract.TermEnd, strconv.FormatBool(c.Contract.Renews)
		}
		sold := c.SoldBy
		if sold == "" {
			sold = "direct"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", c.ID, c.Name, c.Tier, status, end, renews, c.Hosts, sold, c.Timezone)
	}
	tw.Flush()
}

// runTicket answers the support desk's question about a ticket.
func runTicket(ctx context.Context, args []string, stdio Stdio) error {
	if len(args) == 0 || args[0] != "check" {
		return usageErrorf("ticket: want check")
	}
	fs := flag.NewFlagSet("ticket check", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	loc := storeFlags(fs)
	customer := fs.String("customer", "", "customer id or name (with --product and --version)")
	host := fs.String("host", "", "host id or hostname (with --product; the host's customer and reported versions decide)")
	product := fs.String("product", "", "catalog product id (python, debian, nginx...)")
	version := fs.String("version", "", "version the customer runs (with --customer)")
	severity := fs.String("severity", "", "ticket severity: 1 urgent, 2 high impact, 3 moderate impact, 4 low impact")
	at := fs.String("at", "", "when the ticket is raised, RFC 3339 (default now)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	var catalogs listFlag
	fs.Var(&catalogs, "catalog", "extra catalog file (repeatable)")
	pol := server.DefaultConfig()
	policyFlags(fs, &pol.WarnDays, &pol.GraceDays, &pol.ExtendedSupport, &pol.ExtendedSupportFor)
	if err := fs.Parse(args[1:]); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("ticket check: unexpected argument %q", fs.Arg(0))
	}
	if err := pol.Policy().Validate(); err != nil {
		return usageErrorf("ticket check: %s", err)
	}
	svc, st, err := openDomain(ctx, loc, catalogs, pol.Policy(), false)
	if err != nil {
		return fmt.Errorf("ticket check: %w", err)
	}
	defer st.Close()
	a, err := svc.TicketCheck(ctx, service.TicketQuery{Customer: *customer, Host: *host, Product: *product, Version: *version,
		Severity: *severity, At: *at})
	if err != nil {
		return invalidInput("ticket check", err)
	}
	if *asJSON {
		return printJSON(stdio.Out, a)
	}
	printTicket(stdio.Out, a)
	return nil
}

// printTicket writes the answer for a person at a support desk.
func printTicket(w io.Writer, a api.TicketCheck) {
	verdict := "REFUSE"
	if a.Accept {
		verdict = "ACCEPT"
	}
	who := "no customer"
	if a.Customer != nil {
		who = a.Customer.Name + " (" + a.Customer.Tier
		if a.Customer.Contract != nil {
			who += ", contract " + a.Customer.Contract.Status
		}
		who += ")"
	}
	fmt.Fprintf(w, "%s: severity %d ticket for %s %s, %s\n", verdict, a.Severity, a.Eligibility.Product, a.Eligibility.Version, who)
	starts := a.WorkStarts.UTC().Format("2006-01-02 15:04 UTC")
	if a.Customer != nil {
		if loc, err := time.LoadLocation(a.Customer.Timezone); err == nil && loc != time.UTC {
			starts = a.WorkStarts.In(loc).Format("Monday 2006-01-02 15:04 ") + a.Customer.Timezone + " (" + starts + ")"
		}
	}
	if a.WorkStarts.Equal(a.At) {
		starts = "now (" + a.WorkStarts.UTC().Format("2006-01-02 15:04 UTC") + ")"
	}
	label := "work starts:"
	if !a.Accept {
		label = "work would start:" // once the reasons are resolved
	}
	fmt.Fprintf(w, "  %-12s %s\n", label, starts)
	phone := "no"
	if a.PhoneNow {
		phone = "yes"
	}
	fmt.Fprintf(w, "  phone now:   %s\n", phone)
	route := a.Route
	if a.Route == api.RoutePartner && a.Customer != nil {
		route += " (" + a.Customer.SoldBy + ")"
	}
	fmt.Fprintf(w, "  route:       %s\n", route)
	fmt.Fprintln(w, "  why:")
	for _, r := range a.Reasons {
		fmt.Fprintf(w, "    - %s\n", r)
	}
}

package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/store"
)

// runToken creates, lists and revokes API tokens in the server's database.
func runToken(ctx context.Context, args []string, io Stdio) error {
	if len(args) == 0 {
		return usageErrorf("token: want create, list or revoke")
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Err)
	loc := storeFlags(fs)
	role := fs.String("role", "", "role of the new token: admin, support, viewer, or ci (may only upload SBOMs)")
	name := fs.String("name", "", "a note saying who or what uses the token")
	customer := fs.String("customer", "", "limit a viewer token to one customer's hosts (the customer's id or name)")
	if err := fs.Parse(args[1:]); err != nil {
		return flagError(err)
	}
	switch args[0] {
	case "create":
		if !auth.ValidRole(*role) {
			return usageErrorf("token create: --role %q: want admin, support, viewer or ci", *role)
		}
		if *customer != "" && !auth.CanScope(*role) {
			return usageErrorf("token create: --customer limits viewer tokens only, not %s", *role)
		}
	case "list":
	case "revoke":
		if fs.NArg() != 1 {
			return usageErrorf("token revoke: want one token ID (see token list)")
		}
	default:
		return usageErrorf("token: unknown subcommand %q: want create, list or revoke", args[0])
	}
	st, err := loc.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "create":
		return tokenCreate(ctx, st, *role, *name, *customer, io)
	case "list":
		return tokenList(ctx, st, io)
	}
	return tokenRevoke(ctx, st, fs.Arg(0), io)
}

// tokenCreate creates a token of role (or, with customer, a viewer token
// limited to that customer) and prints its secret alone on stdout.
func tokenCreate(ctx context.Context, st *store.Store, role, name, customer string, io Stdio) error {
	if customer != "" {
		c, err := st.Customer(ctx, customer)
		if err != nil {
			return fmt.Errorf("token create: --customer: %w", err)
		}
		t, secret, err := st.CreateCustomerToken(ctx, name, c.ID)
		if err != nil {
			return err
		}
		fmt.Fprintln(io.Out, secret)
		fmt.Fprintf(io.Err, "created viewer token %s limited to customer %s (%s) (shown once; store it now)\n", t.ID, c.Name, c.ID)
		return nil
	}
	t, secret, err := st.CreateToken(ctx, role, name)
	if err != nil {
		return err
	}
	fmt.Fprintln(io.Out, secret)
	fmt.Fprintf(io.Err, "created %s token %s (shown once; store it now)\n", t.Role, t.ID)
	return nil
}

// tokenList prints the tokens as a table, without their secrets.
func tokenList(ctx context.Context, st *store.Store, io Stdio) error {
	ts, err := st.ListTokens(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tCUSTOMER\tCREATED\tREVOKED\tNAME")
	for _, t := range ts {
		rev, cust := "-", "-"
		if !t.RevokedAt.IsZero() {
			rev = t.RevokedAt.Format("2006-01-02 15:04")
		}
		if t.Customer != "" {
			cust = t.CustomerName + " (" + t.Customer + ")"
			if t.CustomerName == "" { // the customer was deleted (its tokens were revoked then)
				cust = t.Customer
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, cust, t.CreatedAt.Format("2006-01-02 15:04"), rev, t.Name)
	}
	return tw.Flush()
}

// tokenRevoke revokes token id. Given the token itself (ewt_..., a leaked
// token whose id nobody noted), it revokes that token, and never prints
// the secret back: an error message may end up in a shared log.
func tokenRevoke(ctx context.Context, st *store.Store, id string, io Stdio) error {
	if store.IsTokenSecret(id) {
		p, err := st.Authenticate(ctx, id)
		if errors.Is(err, store.ErrUnauthorized) {
			return errors.New("token revoke: the token given (the secret, not an id) is unknown or already revoked; 'token list' shows the ids")
		}
		if err != nil {
			return err
		}
		id = p.TokenID
	}
	if err := st.RevokeToken(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("token revoke: no token with id %q", id)
		}
		return err
	}
	fmt.Fprintf(io.Err, "revoked token %s\n", id)
	return nil
}

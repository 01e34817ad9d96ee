package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"postern/access"
	"postern/mail"
	"postern/store"
	"postern/web"
)

// adminActions are the things `postern admin` does to a data folder, while
// serve runs on it or not.
var adminActions = map[string]func(ctx context.Context, st *store.Store, fs *adminFlags, std stdio) error{
	"create":         adminCreate,
	"list":           adminList,
	"remove":         adminRemove,
	"token":          adminNewToken,
	"tokens":         adminListTokens,
	"revoke-token":   adminRevokeToken,
	"two-factor-off": adminTwoFactorOff,
}

const adminUsage = "create, list, remove, token, tokens, revoke-token or two-factor-off"

// adminFlags are every admin action's flags; each action says which it needs.
type adminFlags struct {
	data, email, name, expires, role string
	publicURL, mailFrom              string
	id                               int64
}

// admin manages the site's administrators and API tokens.
func admin(ctx context.Context, args []string, std stdio) error {
	if len(args) == 0 {
		return fmt.Errorf("admin: give %s", adminUsage)
	}
	action, ok := adminActions[args[0]]
	if !ok {
		return fmt.Errorf("admin: unknown command %q (%s)", args[0], adminUsage)
	}
	fs := flag.NewFlagSet("admin "+args[0], flag.ContinueOnError)
	fs.SetOutput(std.err)
	var f adminFlags
	fs.StringVar(&f.data, "data", "./postern-data", "data folder")
	fs.StringVar(&f.email, "email", "", "the administrator's email")
	fs.StringVar(&f.name, "name", "", "token name (admin token)")
	fs.StringVar(&f.expires, "expires", "", "when the token stops working (admin token): a number of days such as 90d, a duration such as 12h, or a date YYYY-MM-DD (through that day); empty: never")
	fs.StringVar(&f.role, "role", "", "owner, admin, reception or viewer: the new administrator's (admin create; default owner) or the token's (admin token; default the administrator's own, never above it)")
	fs.StringVar(&f.publicURL, "public-url", "", "as serve's: the URL the emailed link points at (admin two-factor-off)")
	fs.StringVar(&f.mailFrom, "mail-from", "", "as serve's: the email's From address when the settings page sets none (admin two-factor-off)")
	fs.Int64Var(&f.id, "id", 0, "the token's id, as admin tokens lists it (admin revoke-token)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	st, err := store.Open(ctx, f.data)
	if err != nil {
		return err
	}
	defer st.Close()
	return action(ctx, st, &f, std)
}

func (f *adminFlags) needEmail() error {
	if f.email == "" {
		return errors.New("--email is required")
	}
	return nil
}

func adminCreate(ctx context.Context, st *store.Store, f *adminFlags, std stdio) error {
	if err := f.needEmail(); err != nil {
		return err
	}
	role := access.RoleOwner
	if f.role != "" {
		var err error
		if role, err = access.ParseRole(f.role); err != nil {
			return fmt.Errorf("--role: %w", err)
		}
	}
	pw, err := readPassword(ctx, std)
	if err != nil {
		return err
	}
	hash, err := web.HashPassword(pw)
	if err != nil {
		return err
	}
	if _, err := st.CreateAdminAs(ctx, "cli", f.email, hash, role); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "administrator %s created (%s)\n", f.email, role)
	return nil
}

func adminList(ctx context.Context, st *store.Store, _ *adminFlags, std stdio) error {
	admins, err := st.Admins(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EMAIL\tROLE\tSINCE")
	for _, a := range admins {
		fmt.Fprintf(w, "%s\t%s\t%s\n", a.Email, a.Role, a.CreatedAt.Local().Format(time.DateTime))
	}
	return w.Flush()
}

// adminRemove removes an administrator, with their sessions and tokens;
// never the last one.
func adminRemove(ctx context.Context, st *store.Store, f *adminFlags, std stdio) error {
	if err := f.needEmail(); err != nil {
		return err
	}
	a, err := st.AdminByEmail(ctx, f.email)
	if err != nil {
		return fmt.Errorf("no administrator %s", f.email)
	}
	if err := st.DeleteAdmin(ctx, "cli", a.ID); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "administrator %s removed; their sessions and API tokens no longer work\n", a.Email)
	return nil
}

// adminTwoFactorOff turns off an administrator's two-factor sign-in, for
// one who lost both their phone and their recovery codes: whoever can run
// this on the appliance holds the database anyway. They are emailed as
// when an owner does it on the Administrators page, through the outbox
// that the running appliance (or the next one started) sends.
func adminTwoFactorOff(ctx context.Context, st *store.Store, f *adminFlags, std stdio) error {
	if err := f.needEmail(); err != nil {
		return err
	}
	a, err := st.AdminByEmail(ctx, f.email)
	if err != nil {
		return fmt.Errorf("no administrator %s", f.email)
	}
	publicURL := strings.TrimRight(f.publicURL, "/")
	m, err := web.TwoFactorOffMail(ctx, st, a, "Someone on the appliance's command line", mail.FromAddress(ctx, st, f.mailFrom, publicURL), publicURL, time.Now())
	if err != nil {
		return err
	}
	if err := st.DisableTOTPFor(ctx, "cli", a.ID, m); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "two-factor sign-in is off for %s, and an email telling them is in the outbox: their password alone signs in, or sets it up again if their role must use it\n", f.email)
	return nil
}

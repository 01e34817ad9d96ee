package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"postern/access"
	"postern/store"
	"postern/web"
)

// adminNewToken prints a new API token: alone on the last line of standard
// output, so a script can take it.
func adminNewToken(ctx context.Context, st *store.Store, f *adminFlags, std stdio) error {
	if err := f.needEmail(); err != nil {
		return err
	}
	if f.name == "" {
		return errors.New("--name is required: say what the token is for")
	}
	expires, err := parseExpiry(f.expires, time.Now())
	if err != nil {
		return fmt.Errorf("--expires: %w", err)
	}
	a, err := st.AdminByEmail(ctx, f.email)
	if err != nil {
		return fmt.Errorf("no administrator %s", f.email)
	}
	var role access.Role
	if f.role != "" {
		if role, err = access.ParseRole(f.role); err != nil {
			return fmt.Errorf("--role: %w", err)
		}
	}
	token := web.NewAPIToken()
	id, err := st.CreateAPITokenAs(ctx, "cli", a.ID, f.name, token, expires, role)
	if err != nil {
		return err
	}
	until := "it does not expire"
	if !expires.IsZero() {
		until = "valid until " + expires.Local().Format(time.DateTime)
	}
	fmt.Fprintf(std.err, "API token %d %q for %s, %s (shown once; send it as Authorization: Bearer TOKEN):\n", id, f.name, f.email, until)
	fmt.Fprintln(std.out, token)
	return nil
}

// parseExpiry reads --expires: "" (never), a number of days ("90d"), a Go
// duration ("12h") or a date, meaning through that day on this machine's
// clock.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, nil
	case strings.HasSuffix(s, "d"):
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n <= 0 {
			return time.Time{}, fmt.Errorf("%q: want a number of days such as 90d", s)
		}
		return now.AddDate(0, 0, n), nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%q is not in the future", s)
		}
		return now.Add(d), nil
	}
	day, err := time.ParseInLocation(time.DateOnly, s, now.Location())
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want 90d, 12h or a date YYYY-MM-DD", s)
	}
	end := day.AddDate(0, 0, 1)
	if !end.After(now) {
		return time.Time{}, fmt.Errorf("%s is in the past", s)
	}
	return end, nil
}

// adminListTokens lists API tokens, every admin's or one's: never the tokens
// themselves, which are kept only as hashes.
func adminListTokens(ctx context.Context, st *store.Store, f *adminFlags, std stdio) error {
	var adminID int64
	if f.email != "" {
		a, err := st.AdminByEmail(ctx, f.email)
		if err != nil {
			return fmt.Errorf("no administrator %s", f.email)
		}
		adminID = a.ID
	}
	tokens, err := st.APITokens(ctx, adminID)
	if err != nil {
		return err
	}
	now := time.Now()
	w := tabwriter.NewWriter(std.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tADMINISTRATOR\tROLE\tCREATED\tLAST USED\tEXPIRES")
	for _, t := range tokens {
		used, expires := "never", "never"
		if !t.LastUsedAt.IsZero() {
			used = t.LastUsedAt.Local().Format(time.DateTime)
		}
		if !t.ExpiresAt.IsZero() {
			expires = t.ExpiresAt.Local().Format(time.DateTime)
			if t.Expired(now) {
				expires += " (expired)"
			}
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.AdminEmail, t.Role, t.CreatedAt.Local().Format(time.DateTime), used, expires)
	}
	return w.Flush()
}

// adminRevokeToken deletes a token: whatever uses it is refused at once.
func adminRevokeToken(ctx context.Context, st *store.Store, f *adminFlags, std stdio) error {
	if f.id <= 0 {
		return errors.New("--id is required: the token's id, as postern admin tokens lists it")
	}
	if err := st.RevokeAPIToken(ctx, "cli", f.id); err != nil {
		return fmt.Errorf("revoke token %d: %w", f.id, err)
	}
	fmt.Fprintf(std.out, "API token %d revoked\n", f.id)
	return nil
}

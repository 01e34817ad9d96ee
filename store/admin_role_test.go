package store_test

import (
	"errors"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// TestSiteKeepsAnOwner: no role change or removal leaves the site without
// an owner, and the first administrator is one.
func TestSiteKeepsAnOwner(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	if _, err := s.CreateAdminAs(ctx, actor, "vic@example.com", "hash", access.RoleViewer); !errors.Is(err, store.ErrLastOwner) {
		t.Errorf("first admin as a viewer: got %v, want ErrLastOwner", err)
	}
	ann, err := s.CreateAdmin(ctx, actor, "ann@example.com", "hash", false)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := s.CreateAdminAs(ctx, actor, "bob@example.com", "hash", access.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetAdminRole(ctx, actor, ann.ID, access.RoleAdmin); !errors.Is(err, store.ErrLastOwner) {
		t.Errorf("demote the only owner: got %v, want ErrLastOwner", err)
	}
	if err := s.DeleteAdmin(ctx, actor, ann.ID); !errors.Is(err, store.ErrLastOwner) {
		t.Errorf("remove the only owner: got %v, want ErrLastOwner", err)
	}
	if err := s.SetAdminRole(ctx, actor, bob.ID, "root"); !isValidation(err) {
		t.Errorf("unknown role: got %v, want a validation error", err)
	}
	if err := s.SetAdminRole(ctx, actor, bob.ID, access.RoleOwner); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAdminRole(ctx, actor, ann.ID, access.RoleViewer); err != nil {
		t.Errorf("demote an owner when another remains: %v", err)
	}
	if got, err := s.AdminByID(ctx, ann.ID); err != nil || got.Role != access.RoleViewer {
		t.Errorf("got %+v, %v, want a viewer", got, err)
	}
	evs := allEvents(t, s)
	if last := evs[0]; last.Kind != "admin.role_changed" || last.Detail != "ann@example.com: owner → viewer" {
		t.Errorf("last event: got %s %q, want the role change", last.Kind, last.Detail)
	}
}

// TestAPITokenRole: a token is made no higher than its maker, and acts
// with no more than its maker may do now.
func TestAPITokenRole(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	if _, err := s.CreateAdmin(ctx, actor, "ann@example.com", "hash", false); err != nil {
		t.Fatal(err)
	}
	rita, err := s.CreateAdminAs(ctx, actor, "rita@example.com", "hash", access.RoleReception)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPITokenAs(ctx, actor, rita.ID, "high", "tok-high", time.Time{}, access.RoleOwner); !errors.Is(err, store.ErrTokenAboveMaker) {
		t.Errorf("token above its maker: got %v, want ErrTokenAboveMaker", err)
	}
	if _, err := s.CreateAPITokenUntil(ctx, actor, rita.ID, "desk", "tok-desk", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPITokenAs(ctx, actor, rita.ID, "read", "tok-read", time.Time{}, access.RoleViewer); err != nil {
		t.Fatal(err)
	}
	for tok, want := range map[string]access.Role{"tok-desk": access.RoleReception, "tok-read": access.RoleViewer} {
		if got, err := s.APITokenByToken(ctx, tok); err != nil || got.Role != want {
			t.Errorf("%s: got %q, %v, want %q", tok, got.Role, err, want)
		}
	}
	if err := s.SetAdminRole(ctx, actor, rita.ID, access.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if got, err := s.APITokenByToken(ctx, "tok-desk"); err != nil || got.Role != access.RoleViewer {
		t.Errorf("token of a demoted maker: got %q, %v, want viewer", got.Role, err)
	}
}

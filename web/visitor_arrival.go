package web

import (
	"context"
	"errors"
	"fmt"
	"time"

	"postern/access"
	"postern/mail"
	"postern/store"
)

// arrivals emails each visitor's host when the visitor is first let in,
// read from the log like the alarms, so the door's decision never waits
// on it.
func (a *Alarms) arrivals(ctx context.Context) error {
	st := a.cfg.Store
	cursor, err := st.VisitorCursor(ctx)
	if err != nil {
		return err
	}
	evs, err := st.EventsAfter(ctx, cursor, logBatch)
	if err != nil || len(evs) == 0 {
		return err
	}
	var out []store.Arrival
	seen := map[int64]bool{}
	for _, e := range evs {
		if e.Kind != "access.granted" || e.UserID == 0 || seen[e.UserID] {
			continue
		}
		v, err := st.VisitorByUser(ctx, e.UserID)
		if errors.Is(err, access.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		seen[e.UserID] = true
		if !v.FirstInAt.IsZero() {
			continue
		}
		arr := store.Arrival{VisitorID: v.ID, At: e.At}
		if v.HostEmail != "" {
			if arr.Mail, err = a.arrivalMail(ctx, v, e); err != nil {
				return err
			}
		}
		out = append(out, arr)
	}
	if err := st.QueueArrivals(ctx, out, evs[len(evs)-1].ID); err != nil {
		return err
	}
	if len(out) > 0 && a.cfg.Mailer != nil {
		a.cfg.Mailer.Wake()
	}
	return nil
}

func (a *Alarms) arrivalMail(ctx context.Context, v store.Visitor, e access.Event) (store.Mail, error) {
	st := a.cfg.Store
	site, err := st.Site(ctx)
	if err != nil {
		return store.Mail{}, err
	}
	from := a.cfg.PublicURL
	if a.cfg.Mailer != nil {
		from = a.cfg.Mailer.From(ctx, a.cfg.PublicURL)
	}
	where := e.AccessPointName
	if where == "" {
		where = "a door"
	}
	at := e.At.In(st.SiteLocation(ctx)).Format(time.DateTime)
	msg := mail.Message{From: from, To: []string{v.HostEmail}, Subject: "Your visitor " + v.User.Name() + " has arrived",
		Text: fmt.Sprintf("Hello %s,\n\n%s, your visitor, came in at %s (%s) at %s.\n\n%s\n", v.HostName, v.User.Name(), where, site.Name, at, a.cfg.PublicURL)}
	return encodeMail("visitor", msg)
}

package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishEvents hands the reader's logged events to its event stream in
// log order, each with its uid as Nats-Msg-Id, and moves its mark past
// them once the stream has acknowledged them all. At start it publishes
// whatever is past the mark: a crash between the two is published again,
// and dropped as a duplicate by the stream or by the hub.
func (n *Node) publishEvents(ctx context.Context, local jetstream.JetStream) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for ctx.Err() == nil {
		k, err := n.publishBatch(ctx, local)
		if err != nil && ctx.Err() == nil {
			n.log.Warn("remote reader: publishing events", "err", err)
		}
		if k > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-n.eventsWake:
		case <-t.C:
		}
	}
}

func (n *Node) eventMark(ctx context.Context) (int64, error) {
	v, err := n.cfg.Store.FleetState(ctx, "events_published")
	if err != nil || v == "" {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

func (n *Node) publishBatch(ctx context.Context, local jetstream.JetStream) (int, error) {
	mark, err := n.eventMark(ctx)
	if err != nil {
		return 0, err
	}
	evs, err := n.cfg.Store.EventsAfter(ctx, mark, 200)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	var futures []jetstream.PubAckFuture
	for _, e := range evs {
		if e.UID == "" {
			continue // not a reader's event: nothing the hub needs
		}
		data, err := json.Marshal(toWire(e))
		if err != nil {
			return 0, err
		}
		msg := nats.NewMsg(eventSubject(n.creds.ID))
		msg.Data = data
		msg.Header.Set(jetstream.MsgIDHeader, e.UID)
		f, err := local.PublishMsgAsync(msg)
		if err != nil {
			return 0, err
		}
		futures = append(futures, f)
	}
	if _, err := awaitAcks(ctx, futures); err != nil {
		return 0, err
	}
	last := evs[len(evs)-1].ID
	return len(evs), n.cfg.Store.SetFleetState(ctx, "events_published", strconv.FormatInt(last, 10))
}

// reportStatus tells the hub, every statusEvery while the link is up,
// how far the reader's policy is and how many events it still holds.
func (n *Node) reportStatus(ctx context.Context, nc *nats.Conn) {
	t := time.NewTicker(statusEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !n.connected.Load() {
			continue
		}
		if n.caughtUp.Load() {
			n.touchFresh(ctx)
		}
		w := statusWire{Version: n.cfg.Version}
		w.PolicySeq, _, _ = n.cfg.Store.PolicySeq(ctx)
		// Those not in the stream yet; the hub adds those in the stream it
		// has not taken.
		if mark, err := n.eventMark(ctx); err == nil {
			if k, err := n.cfg.Store.CountEventsAfter(ctx, mark); err == nil {
				w.EventsWaiting += k
			}
		}
		b, _ := json.Marshal(w)
		nc.Publish(fmt.Sprintf("%s.r%d", statusSubject, n.creds.ID), b)
	}
}

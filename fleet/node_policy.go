package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"postern/store"
)

// followPolicy applies the hub's policy stream to the reader's database
// each time the link is up, starting after the last sequence it applied:
// directly, so a reader is current again as soon as its link is, not when
// a mirror's retry backoff says so.
func (n *Node) followPolicy(ctx context.Context, hub jetstream.JetStream) {
	for ctx.Err() == nil {
		if !n.connected.Load() {
			sleep(ctx, 20*time.Millisecond)
			continue
		}
		err := n.followOnce(ctx, hub)
		n.caughtUp.Store(false)
		if err != nil && ctx.Err() == nil {
			n.log.Debug("remote reader: following the policy", "err", err)
			sleep(ctx, 100*time.Millisecond)
		}
	}
}

// followOnce follows the stream until the link drops or ctx ends.
func (n *Node) followOnce(ctx context.Context, hub jetstream.JetStream) error {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for fctx.Err() == nil && n.connected.Load() {
			sleep(fctx, 20*time.Millisecond)
		}
		cancel()
	}()
	rctx, rcancel := context.WithTimeout(fctx, 5*time.Second)
	s, err := hub.Stream(rctx, policyStream)
	rcancel()
	if err != nil {
		return err
	}
	info := s.CachedInfo()
	epoch := strconv.FormatInt(info.Created.UnixNano(), 10)
	seq, have, err := n.cfg.Store.PolicySeq(ctx)
	if err != nil {
		return err
	}
	reset := have != epoch
	start := seq + 1
	if reset {
		// A stream this reader has not followed: take it whole.
		start = 1
	} else if seq >= info.State.LastSeq {
		n.setCaughtUp()
	}
	cons, err := s.OrderedConsumer(fctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start,
	})
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	go func() {
		<-fctx.Done()
		it.Stop()
	}()
	var batch []store.PolicyRecord
	var last uint64
	apply := func(pending uint64) error {
		if _, err := n.cfg.Store.ApplyPolicy(ctx, epoch, last, batch, reset); err != nil {
			return err
		}
		n.log.Debug("remote reader: policy applied", "seq", last, "records", len(batch), "pending", pending)
		reset, batch = false, nil
		if pending > 0 {
			return nil // the decisions' copy waits for the whole catch-up
		}
		if _, err := n.cfg.Store.Site(ctx); err == nil {
			if err := n.reload(ctx); err != nil {
				return err
			}
			n.markSynced()
		}
		n.setCaughtUp()
		return nil
	}
	for {
		var msg jetstream.Msg
		if len(batch) > 0 {
			// The stream's count of what is pending may include records
			// since replaced by newer ones of the same entity: a batch
			// waits for more only briefly.
			msg, err = it.Next(jetstream.NextMaxWait(20 * time.Millisecond))
			if errors.Is(err, nats.ErrTimeout) {
				if err := apply(0); err != nil {
					return err
				}
				continue
			}
		} else {
			msg, err = it.Next()
		}
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return fctx.Err()
			}
			return err
		}
		md, err := msg.Metadata()
		if err != nil {
			return err
		}
		last = md.Sequence.Stream
		var rec store.PolicyRecord
		if err := json.Unmarshal(msg.Data(), &rec); err != nil {
			n.log.Error("remote reader: a policy record that cannot be read is skipped", "seq", last, "err", err)
		} else {
			batch = append(batch, rec)
		}
		// Apply when the stream has nothing more for now, or in chunks on
		// a long catch-up: one transaction each, with its sequence.
		if md.NumPending == 0 || len(batch) >= 500 {
			if err := apply(md.NumPending); err != nil {
				return err
			}
		}
	}
}

// setCaughtUp notes that the reader holds all the hub has, now.
func (n *Node) setCaughtUp() {
	n.caughtUp.Store(true)
	n.touchFresh(context.Background())
}

// touchFresh moves the lease's anchor to now while the reader is current,
// and keeps it, at most once a minute, so a restart offline remembers it.
func (n *Node) touchFresh(ctx context.Context) {
	now := n.cfg.Now().UnixMilli()
	prev := n.freshAt.Swap(now)
	if now-prev >= time.Minute.Milliseconds() {
		if err := n.cfg.Store.SetFleetState(ctx, "policy_fresh_at", strconv.FormatInt(now, 10)); err != nil {
			n.log.Warn("remote reader: keeping the policy's age", "err", err)
		}
	}
}

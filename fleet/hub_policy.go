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

// publishPolicy publishes queued policy changes until ctx ends.
func (h *Hub) publishPolicy(ctx context.Context) {
	t := time.NewTicker(h.cfg.PollEvery)
	defer t.Stop()
	for {
		n, err := h.publishQueued(ctx)
		if err != nil && ctx.Err() == nil {
			h.log.Warn("remote readers: publishing the policy", "err", err)
		}
		if n > 0 && err == nil {
			continue // more may be queued
		}
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		case <-t.C:
		}
	}
}

// publishQueued publishes one batch of queued changes, each as the entity
// is now, and forgets them once the stream has them all. A crash between
// the two publishes them again under the same ids, which the stream drops
// as duplicates.
func (h *Hub) publishQueued(ctx context.Context) (int, error) {
	changes, err := h.cfg.Store.PolicyOutbox(ctx, 256)
	if err != nil || len(changes) == 0 {
		return 0, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(changes))
	for _, c := range changes {
		rec, err := h.cfg.Store.PolicyRecord(ctx, c.Entity, c.Key)
		if err != nil {
			return 0, err
		}
		data, err := json.Marshal(rec)
		if err != nil {
			return 0, err
		}
		msg := nats.NewMsg(policyEntitySubject(c.Entity, c.Key))
		msg.Data = data
		msg.Header.Set(jetstream.MsgIDHeader, "c"+strconv.FormatInt(c.ID, 10))
		msg.Header.Set(epochHeader, h.epoch)
		f, err := h.js.PublishMsgAsync(msg)
		if err != nil {
			return 0, err
		}
		futures = append(futures, f)
	}
	last, err := awaitAcks(ctx, futures)
	if err != nil {
		return 0, err
	}
	h.log.Debug("remote readers: policy published", "changes", len(changes), "seq", last)
	if last > h.policySeq.Load() {
		h.policySeq.Store(last)
	}
	return len(changes), h.cfg.Store.DonePolicyOutbox(ctx, changes[len(changes)-1].ID)
}

// awaitAcks waits for every publication's acknowledgement and returns the
// highest stream sequence acknowledged.
func awaitAcks(ctx context.Context, futures []jetstream.PubAckFuture) (uint64, error) {
	var last uint64
	for _, f := range futures {
		select {
		case ack := <-f.Ok():
			last = max(last, ack.Sequence)
		case err := <-f.Err():
			return 0, fmt.Errorf("%s: %w", f.Msg().Subject, err)
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Second):
			return 0, fmt.Errorf("%s: no acknowledgement", f.Msg().Subject)
		}
	}
	return last, nil
}

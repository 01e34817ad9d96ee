package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"postern/access"
)

// eventSource is the hub's source on reader id's event stream. The hub
// keeps the last sequence it stored from each source with the stream
// itself, and asks for what follows it each time the source starts, so an
// event in flight when either side dies is asked for again.
func eventSource(id int64) *jetstream.StreamSource {
	return &jetstream.StreamSource{Name: eventStream, Domain: readerDomain(id)}
}

// eventsConfig is the hub's EVENTS stream, sourcing the readers ids. It
// keeps the last events of each reader even once stored in the database:
// after a crash the hub finds where it was in each reader's stream from
// the last message it holds from it. A work queue, emptied as events are
// stored, would leave it only a time to resume from, and the events a
// reader published just before that time would be skipped.
func eventsConfig(ids []int64) jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{Name: eventStream, Storage: jetstream.FileStorage, MaxMsgsPerSubject: 10000}
	for _, id := range ids {
		cfg.Sources = append(cfg.Sources, eventSource(id))
	}
	return cfg
}

// syncSources makes the EVENTS stream source every enrolled reader, and
// no other. Readers in kick are taken out and put back, which restarts
// their source at once instead of after its retry backoff (up to two
// minutes once a reader has been away).
func (h *Hub) syncSources(ctx context.Context, kick []int64) error {
	readers, err := h.cfg.Store.FleetReaders(ctx)
	if err != nil {
		return err
	}
	var want []int64
	for _, r := range readers {
		if !r.EnrolledAt.IsZero() {
			want = append(want, r.ID)
		}
	}
	h.mu.Lock()
	same := len(want) == len(h.sources) && len(kick) == 0
	for _, id := range want {
		same = same && h.sources[id]
	}
	h.mu.Unlock()
	if same {
		return nil
	}
	update := func(ids []int64) error {
		_, err := h.js.UpdateStream(ctx, eventsConfig(ids))
		return err
	}
	if len(kick) > 0 {
		if err := update(slices.DeleteFunc(slices.Clone(want), func(id int64) bool { return slices.Contains(kick, id) })); err != nil {
			return fmt.Errorf("fleet: events sources: %w", err)
		}
	}
	if err := update(want); err != nil {
		return fmt.Errorf("fleet: events sources: %w", err)
	}
	h.mu.Lock()
	h.sources = map[int64]bool{}
	for _, id := range want {
		h.sources[id] = true
	}
	h.mu.Unlock()
	return nil
}

// ingestEvents writes what the EVENTS stream takes in to the database,
// each event once, and acknowledges it after the commit.
func (h *Hub) ingestEvents(ctx context.Context) {
	var cons jetstream.Consumer
	for ctx.Err() == nil {
		var err error
		if cons == nil {
			cons, err = h.js.CreateOrUpdateConsumer(ctx, eventStream, jetstream.ConsumerConfig{
				Durable: ingestConsumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 10 * time.Second, MaxAckPending: 2000,
			})
		}
		if err == nil {
			err = h.ingestBatch(ctx, cons)
		}
		if err != nil && ctx.Err() == nil {
			h.log.Warn("remote readers: storing events", "err", err)
			cons = nil
			sleep(ctx, time.Second)
		}
	}
}

func (h *Hub) ingestBatch(ctx context.Context, cons jetstream.Consumer) error {
	batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		return err
	}
	var msgs []jetstream.Msg
	var evs []access.Event
	for m := range batch.Messages() {
		var w eventWire
		if err := json.Unmarshal(m.Data(), &w); err != nil || w.UID == "" {
			h.log.Error("remote readers: an event that cannot be read is dropped", "subject", m.Subject(), "err", err)
			m.Term()
			continue
		}
		msgs = append(msgs, m)
		evs = append(evs, w.event())
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	if _, err := h.cfg.Store.ImportEvents(ctx, evs); err != nil {
		return err
	}
	for _, m := range msgs {
		// Lost, the message is delivered again after AckWait and found
		// already stored.
		m.Ack()
	}
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// eventsBehind returns how many events reader id's stream holds that the
// hub's has not taken yet, as the source last saw it.
func (h *Hub) eventsBehind(ctx context.Context, id int64) int {
	s, err := h.js.Stream(ctx, eventStream)
	if err != nil {
		return 0
	}
	prefix := "$JS." + readerDomain(id) + ".API"
	for _, si := range s.CachedInfo().Sources {
		if si.External != nil && si.External.APIPrefix == prefix {
			return int(si.Lag)
		}
	}
	return 0
}

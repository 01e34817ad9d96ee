package web

import (
	"context"
	"sync"
	"time"

	"postern/access"
	"postern/store"
)

// importBatch is how many lines of an import go in one transaction: small
// enough that doors never wait long for the writer, large enough that
// 10,000 users take seconds.
const importBatch = 200

// importInviteEvery spaces the invitations of one import in the outbox:
// one a second keeps a large import inside what mail services accept.
const importInviteEvery = time.Second

// importRunner runs imports in the background, at most one goroutine per
// import in this process. The store keeps each import's progress, so a
// run that stops (the appliance restarts) is carried on by the next
// request that looks at it, or at start.
type importRunner struct {
	h  *handler
	mu sync.Mutex
	// running holds the imports with a goroutine here.
	running map[string]bool
	ctx     context.Context
	cancel  context.CancelFunc // ends ctx, when the server stops
	wg      *sync.WaitGroup
}

func newImportRunner(h *handler, stopping <-chan struct{}, wg *sync.WaitGroup) *importRunner {
	ctx, cancel := context.WithCancel(context.Background())
	if wg == nil {
		wg = new(sync.WaitGroup)
	}
	r := &importRunner{h: h, running: map[string]bool{}, ctx: ctx, cancel: cancel, wg: wg}
	if stopping != nil {
		go func() {
			<-stopping
			r.cancel()
		}()
	}
	return r
}

// resume carries on with every import that was running.
func (r *importRunner) resume() {
	ids, err := r.h.store.RunningImports(r.ctx)
	if err != nil {
		r.h.log.Error("imports: list running", "err", err)
		return
	}
	for _, id := range ids {
		r.ensure(id, "system")
	}
}

// ensure runs the import id unless it is running here already.
func (r *importRunner) ensure(id, actor string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running[id] || r.ctx.Err() != nil {
		return
	}
	r.running[id] = true
	r.wg.Go(func() {
		defer func() {
			r.mu.Lock()
			delete(r.running, id)
			r.mu.Unlock()
		}()
		r.run(id, actor)
	})
}

func (r *importRunner) run(id, actor string) {
	ctx := r.ctx
	for ctx.Err() == nil {
		// Read before the batch's transaction, which holds the writer.
		lifetime, compose := r.h.codeLifetime(ctx), r.h.inviteComposer(ctx)
		invite := func(access.User) (string, time.Time, func(access.Credential, access.User) (store.Mail, error)) {
			code := access.NewRegistrationCode()
			expires := r.h.now().Add(lifetime)
			return code, expires, compose(code, expires)
		}
		done, err := r.h.store.RunImportBatch(ctx, actor, id, importBatch, invite, importInviteEvery)
		if err != nil {
			if ctx.Err() == nil {
				r.h.log.Error("import stopped; it carries on when its page is opened", "import", id, "err", err)
			}
			return
		}
		r.h.mailer.Wake()
		if done {
			return
		}
	}
}

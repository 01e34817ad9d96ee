package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"postern/access"
)

// ImportRow is one line of a CSV of users: what it asks for, what the
// preview planned, and what the run did.
type ImportRow struct {
	Line       int // in the file, the header being line 1
	FirstName  string
	LastName   string
	Email      string
	Groups     []string
	ValidFrom  time.Time
	ValidUntil time.Time // exclusive, as a user's

	Plan   string // create, update or refuse
	Reason string // why refused
	Result string // "" until run: created, updated or refused
	UserID int64
}

// ImportJob is a CSV import of users and how far its run has got.
type ImportJob struct {
	ID        string
	CreatedAt time.Time
	CreatedBy string
	FileName  string
	Invite    bool   // send a Smart credential invitation to each imported user
	Status    string // preview, running or done
	Total     int
	Done      int // lines the run has dealt with
	Created   int // by the plan until run, then by the run
	Updated   int
	Refused   int
	Invited   int
}

// ErrImportStarted is a run asked of an import that has already run.
var ErrImportStarted = errors.New("this import has already been run")

func (r *ImportRow) user() access.User {
	return access.User{FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Enabled: true, ValidFrom: r.ValidFrom, ValidUntil: r.ValidUntil}
}

// matchUser finds the user a line updates: by email, or, for a line with
// none, by exact name among users with none.
func matchUser(ctx context.Context, q querier, u access.User) (int64, error) {
	var id int64
	var err error
	if u.Email != "" {
		err = q.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ? COLLATE NOCASE ORDER BY id LIMIT 1`, u.Email).Scan(&id)
	} else {
		err = q.QueryRowContext(ctx, `SELECT id FROM users WHERE email = '' AND first_name = ? AND last_name = ? ORDER BY id LIMIT 1`, u.FirstName, u.LastName).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// CreateImport stores an import's lines with the plan for each: update
// when a user has the line's email, create otherwise, refuse a line that
// is not a valid user or repeats an earlier line's email.
func (s *Store) CreateImport(ctx context.Context, actor string, job *ImportJob, rows []ImportRow) error {
	job.CreatedAt, job.CreatedBy, job.Status = s.now(), actor, "preview"
	job.Total, job.Created, job.Updated, job.Refused = len(rows), 0, 0, 0
	seen := map[string]int{}
	for i := range rows {
		r := &rows[i]
		u := r.user()
		u.Normalize()
		r.FirstName, r.LastName, r.Email = u.FirstName, u.LastName, u.Email
		key := strings.ToLower(u.Email)
		if u.Email == "" {
			key = "\x00" + u.FirstName + "\x00" + u.LastName
		}
		for _, name := range r.Groups {
			g := access.Group{Name: name}
			g.Normalize()
			if err := g.Validate(); err != nil && r.Reason == "" {
				r.Reason = "group " + name + ": " + err.Error()
			}
		}
		switch err := u.Validate(); {
		case r.Reason != "":
			r.Plan = "refuse"
		case err != nil:
			r.Plan, r.Reason = "refuse", err.Error()
		case seen[key] != 0:
			r.Plan, r.Reason = "refuse", fmt.Sprintf("the same person as line %d", seen[key])
		default:
			seen[key] = r.Line
			id, err := matchUser(ctx, s.read, u)
			if err != nil {
				return fmt.Errorf("store: preview import: %w", err)
			}
			r.Plan, r.UserID = "create", id
			if id != 0 {
				r.Plan = "update"
			}
		}
		switch r.Plan {
		case "create":
			job.Created++
		case "update":
			job.Updated++
		default:
			job.Refused++
		}
	}
	return s.tx(ctx, "preview import", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO import_jobs (id, created_at, created_by, file_name, invite) VALUES (?, ?, ?, ?, ?)`,
			job.ID, job.CreatedAt.UnixMilli(), actor, job.FileName, job.Invite); err != nil {
			return fmt.Errorf("store: preview import: %w", err)
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO import_rows (job_id, line, first_name, last_name, email, groups, valid_from, valid_until, plan, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("store: preview import: %w", err)
		}
		defer st.Close()
		for _, r := range rows {
			if _, err := st.ExecContext(ctx, job.ID, r.Line, r.FirstName, r.LastName, r.Email, strings.Join(r.Groups, "\x1f"),
				ms(r.ValidFrom), ms(r.ValidUntil), r.Plan, r.Reason); err != nil {
				return fmt.Errorf("store: preview import line %d: %w", r.Line, err)
			}
		}
		return nil
	})
}

// ImportByID returns an import with its counts: the plan's until it runs,
// then the run's so far.
func (s *Store) ImportByID(ctx context.Context, id string) (ImportJob, error) {
	var j ImportJob
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT id, created_at, created_by, file_name, invite, status,
		(SELECT count(*) FROM import_rows WHERE job_id = j.id),
		(SELECT count(*) FROM import_rows WHERE job_id = j.id AND result != ''),
		(SELECT count(*) FROM import_rows WHERE job_id = j.id AND CASE WHEN j.status = 'preview' THEN plan = 'create' ELSE result = 'created' END),
		(SELECT count(*) FROM import_rows WHERE job_id = j.id AND CASE WHEN j.status = 'preview' THEN plan = 'update' ELSE result = 'updated' END),
		(SELECT count(*) FROM import_rows WHERE job_id = j.id AND CASE WHEN j.status = 'preview' THEN plan = 'refuse' ELSE result = 'refused' END),
		(SELECT count(*) FROM import_rows WHERE job_id = j.id AND invited = 1)
		FROM import_jobs j WHERE id = ?`, id).Scan(&j.ID, &created, &j.CreatedBy, &j.FileName, &j.Invite, &j.Status,
		&j.Total, &j.Done, &j.Created, &j.Updated, &j.Refused, &j.Invited)
	j.CreatedAt = time.UnixMilli(created)
	return j, notFound("read import", err)
}

// ImportRows returns up to limit lines of an import with plan (any plan
// when empty), in file order.
func (s *Store) ImportRows(ctx context.Context, id, plan string, limit int) ([]ImportRow, error) {
	return queryAll(ctx, s.read, "list import lines", func(sc scanner) (ImportRow, error) {
		var r ImportRow
		var groups string
		var from, until sql.NullInt64
		var user sql.NullInt64
		err := sc.Scan(&r.Line, &r.FirstName, &r.LastName, &r.Email, &groups, &from, &until, &r.Plan, &r.Reason, &r.Result, &user)
		r.ValidFrom, r.ValidUntil, r.UserID = fromMS(from), fromMS(until), user.Int64
		r.Groups = splitGroups(groups)
		return r, err
	}, `SELECT line, first_name, last_name, email, groups, valid_from, valid_until, plan, reason, result, user_id FROM import_rows
		WHERE job_id = ? AND (? = '' OR plan = ?) ORDER BY line LIMIT ?`, id, plan, plan, limit)
}

// RunningImports returns the ids of imports that were running, for a
// restarted appliance to carry on with.
func (s *Store) RunningImports(ctx context.Context) ([]string, error) {
	return queryAll(ctx, s.read, "list running imports", func(sc scanner) (string, error) {
		var id string
		return id, sc.Scan(&id)
	}, `SELECT id FROM import_jobs WHERE status = 'running' ORDER BY created_at`)
}

// StartImport marks a previewed import as running. It returns
// ErrImportStarted when it is running or done already, so that a form
// posted twice starts one run.
func (s *Store) StartImport(ctx context.Context, actor, id string) error {
	return s.tx(ctx, "start import", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE import_jobs SET status = 'running', started_at = ? WHERE id = ? AND status = 'preview'`, s.now().UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("store: start import: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var status string
			if err := tx.QueryRowContext(ctx, `SELECT status FROM import_jobs WHERE id = ?`, id).Scan(&status); err != nil {
				return notFound("start import", err)
			}
			return ErrImportStarted
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "user.import_started", Actor: actor, Detail: "import " + id})
	})
}

// splitGroups reads the group names a line stores, joined by the unit
// separator (a character no name may hold).
func splitGroups(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x1f")
}

package web_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"postern/access"
)

func TestAPIEvents(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	ann := env.create(t, "users", `{"first_name":"Ann"}`)
	bob := env.create(t, "users", `{"first_name":"Bob"}`)
	front := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","mode":"direct"}`)
	back := env.create(t, "access-points", `{"name":"Back","reader":"sim:back","mode":"direct"}`)
	for _, e := range []access.Event{
		{Kind: "access.granted", UserID: ann, AccessPointID: front, RSSI: -58, CredentialID: "c-ann"},
		{Kind: "access.denied", Reason: "no_permission", UserID: bob, AccessPointID: front, RSSI: -61},
		{Kind: "access.granted", UserID: bob, AccessPointID: back},
		{Kind: "access.denied", Reason: "outside_schedule", UserID: ann, AccessPointID: back},
	} {
		if err := env.s.AppendEvent(t.Context(), &e); err != nil {
			t.Fatal(err)
		}
	}
	first := env.events(t)[len(env.events(t))-1].ID

	env.runAPI(t, []scenario{
		{name: "all", method: "GET", url: "/api/v1/events", wantStatus: 200,
			wantContains: []string{`"events":[`, `"kind":"access.granted"`, `"kind":"access.denied"`, `"kind":"user.created"`,
				`"reason":"no_permission"`, `"rssi":-58`, `"credential_id":"c-ann"`, `"actor":"api:` + adminEmail + `"`, `"next":null`}},
		{name: "granted", method: "GET", url: "/api/v1/events?result=granted", wantStatus: 200,
			wantContains: []string{`"kind":"access.granted"`}, wantNotContains: []string{`"kind":"access.denied"`, `"kind":"user.created"`}},
		{name: "denied", method: "GET", url: "/api/v1/events?result=denied", wantStatus: 200,
			wantContains: []string{`"reason":"no_permission"`, `"reason":"outside_schedule"`}, wantNotContains: []string{`"kind":"access.granted"`}},
		{name: "one user", method: "GET", url: "/api/v1/events?user=" + itoa(ann), wantStatus: 200,
			wantContains: []string{`"user_id":` + itoa(ann)}, wantNotContains: []string{`"user_id":` + itoa(bob)}},
		{name: "one access point", method: "GET", url: "/api/v1/events?access_point=" + itoa(back), wantStatus: 200,
			wantContains: []string{`"reason":"outside_schedule"`}, wantNotContains: []string{`"access_point_id":` + itoa(front)}},
		{name: "user and result", method: "GET", url: "/api/v1/events?user=" + itoa(bob) + "&result=denied", wantStatus: 200,
			wantContains: []string{`"reason":"no_permission"`}, wantNotContains: []string{`"kind":"access.granted"`, `"reason":"outside_schedule"`}},
		{name: "a kind", method: "GET", url: "/api/v1/events?kind=access_point.created", wantStatus: 200,
			wantContains: []string{`"kind":"access_point.created"`}, wantNotContains: []string{`"kind":"user.created"`, `"kind":"access.granted"`}},
		{name: "a kind prefix", method: "GET", url: "/api/v1/events?kind=access.", wantStatus: 200,
			wantContains: []string{`"kind":"access.granted"`, `"kind":"access.denied"`}, wantNotContains: []string{`"kind":"access_point.created"`}},
		{name: "one per page", method: "GET", url: "/api/v1/events?limit=1", wantStatus: 200, wantContains: []string{`"next":"`}},
		{name: "before the first", method: "GET", url: "/api/v1/events?before=" + strconv.FormatInt(first, 10), wantStatus: 200,
			wantContains: []string{`"events":[]`, `"next":null`}},
		{name: "a huge limit is capped", method: "GET", url: "/api/v1/events?limit=1000000", wantStatus: 200},
		{name: "bad result", method: "GET", url: "/api/v1/events?result=maybe", wantStatus: 400, wantContains: []string{`"error":"bad_request"`, "result"}},
		{name: "user not a number", method: "GET", url: "/api/v1/events?user=ann", wantStatus: 400, wantContains: []string{"user"}},
		{name: "access point not a number", method: "GET", url: "/api/v1/events?access_point=front", wantStatus: 400},
		{name: "before not a number", method: "GET", url: "/api/v1/events?before=yesterday", wantStatus: 400, wantContains: []string{"before"}},
		{name: "negative before", method: "GET", url: "/api/v1/events?before=-1", wantStatus: 400},
		{name: "negative limit", method: "GET", url: "/api/v1/events?limit=-1", wantStatus: 400},
		{name: "limit not a number", method: "GET", url: "/api/v1/events?limit=ten", wantStatus: 400},
	})
}

// TestAPIEventsPages walks the log newest first with the before cursor:
// every event comes once, in order, and nothing written later slips in.
func TestAPIEventsPages(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	for i := range 12 {
		env.create(t, "groups", `{"name":"g`+strconv.Itoa(i)+`"}`)
	}
	n := len(env.events(t))
	if n < 13 {
		t.Fatalf("got %d events, want at least 13", n)
	}
	for _, limit := range []int{1, 5, n - 1, n, n + 1} {
		t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
			var want, got []int64
			for _, e := range env.events(t) {
				want = append(want, e.ID)
			}
			before := ""
			for page := 1; ; page++ {
				if page > 100 {
					t.Fatal("still a next page after 100 pages")
				}
				target := "/api/v1/events?limit=" + strconv.Itoa(limit)
				if before != "" {
					target += "&before=" + before
				}
				m := env.mustAPI(t, "GET", target, "", 200)
				items := m["events"].([]any)
				if len(items) > limit {
					t.Fatalf("GET %s: got %d events, want at most %d", target, len(items), limit)
				}
				for _, it := range items {
					got = append(got, int64(it.(map[string]any)["id"].(float64)))
				}
				if page == 1 {
					// Written after the walk began: must not appear.
					env.create(t, "groups", `{"name":"late `+strconv.Itoa(limit)+`"}`)
				}
				next, ok := m["next"].(string)
				if !ok {
					if m["next"] != nil {
						t.Fatalf("GET %s: got next %v, want a string or null", target, m["next"])
					}
					break
				}
				before = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("got ids %v, want %v", got, want)
			}
		})
	}
}

// TestEventResultWhateverThePath: result=granted and result=denied find a
// decision whether the key was at the reader or opened from the phone, in
// the API, on the events page and in its CSV export alike; a kind chosen
// as well narrows to that kind.
func TestEventResultWhateverThePath(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ann := env.create(t, "users", `{"first_name":"Ann"}`)
	front := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","mode":"direct"}`)
	for _, e := range []access.Event{
		{Kind: "access.granted", UserID: ann, AccessPointID: front},
		{Kind: "access.phone.granted", UserID: ann, AccessPointID: front, Actor: "phone:192.0.2.7"},
		{Kind: "access.denied", Reason: "no_permission", UserID: ann, AccessPointID: front},
		{Kind: "access.phone.denied", Reason: "outside_schedule", UserID: ann, AccessPointID: front, Actor: "phone:192.0.2.7"},
		{Kind: "access.phone.rejected", Reason: "bad_signature", AccessPointID: front, Actor: "phone:192.0.2.7"},
	} {
		if err := env.s.AppendEvent(t.Context(), &e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		query string
		want  []string // kinds, newest first
	}{
		{"result=granted", []string{"access.phone.granted", "access.granted"}},
		{"result=denied", []string{"access.phone.denied", "access.denied"}},
		{"result=granted&kind=access.phone.", []string{"access.phone.rejected", "access.phone.denied", "access.phone.granted"}},
		{"result=denied&kind=access.granted", []string{"access.granted"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var api struct{ Events []struct{ Kind string } }
			w := env.api("GET", "/api/v1/events?"+tt.query, "")
			if err := json.Unmarshal(w.Body.Bytes(), &api); w.Code != 200 || err != nil {
				t.Fatalf("API: got status %d (%v)\n%s", w.Code, err, w.Body)
			}
			var got []string
			for _, e := range api.Events {
				got = append(got, e.Kind)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("API: got kinds %v, want %v", got, tt.want)
			}
			if got := eventKinds(t, env.get("/events?"+tt.query)); !slices.Equal(got, tt.want) {
				t.Errorf("page: got kinds %v, want %v", got, tt.want)
			}
			w = env.get("/events/export.csv?" + tt.query)
			rows := readCSV(t, w.Body.String())
			got = nil
			for _, r := range rows[1:] {
				got = append([]string{r[2]}, got...) // the export is oldest first
			}
			if !slices.Equal(got, tt.want) || w.Header().Get("X-Total-Count") != strconv.Itoa(len(tt.want)) {
				t.Errorf("export: got kinds %v (X-Total-Count %s), want %v", got, w.Header().Get("X-Total-Count"), tt.want)
			}
		})
	}
	// The page's door events narrow to a chosen kind too.
	if got, want := eventKinds(t, env.get("/events?result=doors&kind=access.phone.granted")), []string{"access.phone.granted"}; !slices.Equal(got, want) {
		t.Errorf("page: got kinds %v, want %v", got, want)
	}
}

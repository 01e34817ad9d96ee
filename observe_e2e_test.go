package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"postern/web/metricstest"
)

// scrapeMetrics reads /metrics as Prometheus does and parses it with its
// text parser.
func scrapeMetrics(t *testing.T, a *appliance, token string) metricstest.Families {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.url+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: got %d", resp.StatusCode)
	}
	fams, err := metricstest.Parse(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample is a series' value, -1 when there is none.
func sample(v float64, ok bool) float64 {
	if !ok {
		return -1
	}
	return v
}

// logLines returns the appliance's JSON log lines with the given msg.
func logLines(t *testing.T, a *appliance, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(a.output()))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == msg {
			out = append(out, line)
		}
	}
	return out
}

// TestMetricsAndLogsEndToEnd: keys presented at a running appliance show
// in /metrics, scraped and parsed as Prometheus would, and every decision
// and admin change is one JSON log line with stable keys.
func TestMetricsAndLogsEndToEnd(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data, "--log-format", "json")
	s := newE2ESite(t, a)

	front := s.accessPoint("Front door", "sim:front")
	s.accessPoint("Back door", "sim:back")
	annID := s.user("Ann", "Lee")
	s.permit(map[string]any{"user_id": annID, "access_point_id": front})
	ann := s.register(annID, "ann")
	// Registering with the printed code cancelled its invitation; a second
	// credential's invitation waits for an SMTP server.
	s.call("POST", fmt.Sprintf("/api/v1/users/%d/credentials", annID), map[string]string{"kind": "smart"}, nil, 201)
	if out, errs, code := s.present(ann, "front", "--rssi", "-50"); code != 0 {
		t.Fatalf("Ann at the front door: exit %d %s %s", code, out, errs)
	}
	if out, errs, code := s.present(ann, "back", "--rssi", "-50"); code != 1 || !strings.Contains(out, "no permission") {
		t.Fatalf("Ann at the back door: exit %d %s %s", code, out, errs)
	}

	// The token an admin made with `postern admin token` reads the metrics.
	var fams metricstest.Families
	for deadline := time.Now().Add(e2eGuard); ; time.Sleep(100 * time.Millisecond) {
		fams = scrapeMetrics(t, a, s.token)
		if sample(fams.Value("postern_presentations_total", map[string]string{"result": "denied"})) == 1 || time.Now().After(deadline) {
			break
		}
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"postern_presentations_total", map[string]string{"result": "granted", "reason": "granted"}, 1},
		{"postern_presentations_total", map[string]string{"result": "denied", "reason": "no permission"}, 1},
		{"postern_decision_latency_seconds", nil, 2},
		{"postern_reader_up", map[string]string{"access_point": "Front door"}, 1},
		{"postern_reader_up", map[string]string{"access_point": "Back door"}, 1},
		{"postern_outbox_queued", nil, 1}, // the second invitation, waiting for an SMTP server
		{"postern_http_requests_total", map[string]string{"route": "/api/v1/users", "method": "POST", "code": "201"}, 1},
		{"postern_http_requests_total", map[string]string{"route": "/api/key/v2/register", "method": "POST", "code": "200"}, 1},
	}
	for _, tt := range tests {
		if got := sample(fams.Value(tt.name, tt.labels)); got != tt.want {
			t.Errorf("%s%v: got %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if size := sample(fams.Value("postern_database_size_bytes", nil)); size < 4096 {
		t.Errorf("postern_database_size_bytes: got %v", size)
	}
	if resp, err := http.Get(a.url + "/metrics"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics without a token from an address not allowed: got %v %v, want 401", resp.StatusCode, err)
	}

	// One line per decision, with the keys a log pipeline relies on.
	access := logLines(t, a, "access")
	if len(access) != 2 {
		t.Fatalf("got %d access log lines, want 2:\n%s", len(access), a.output())
	}
	for i, want := range []struct{ result, reason string }{{"granted", "granted"}, {"denied", "no permission"}} {
		line := access[i]
		for _, k := range []string{"time", "level", "event_id", "kind", "actor", "result", "reason", "access_point_id", "user_id", "credential_id", "rssi", "latency_ms", "detail"} {
			if _, ok := line[k]; !ok {
				t.Errorf("access line %d has no %q: %v", i, k, line)
			}
		}
		if line["result"] != want.result || line["reason"] != want.reason || line["credential_id"] != ann.credID || line["user_id"] != float64(annID) {
			t.Errorf("access line %d: got %v, want %s/%s by %s", i, line, want.result, want.reason, ann.credID)
		}
	}
	// Admin changes too: the user, the doors, the permission, the
	// credential, each one line.
	kinds := map[string]int{}
	for _, line := range logLines(t, a, "event") {
		kinds[line["kind"].(string)]++
		if _, ok := line["actor"]; !ok {
			t.Errorf("event line without an actor: %v", line)
		}
	}
	for _, k := range []string{"user.created", "access_point.created", "permission.created"} {
		if kinds[k] == 0 {
			t.Errorf("no %s line in the log (got %v)", k, kinds)
		}
	}
	if kinds["access_point.created"] != 2 {
		t.Errorf("got %d access_point.created lines, want one per door", kinds["access_point.created"])
	}
}

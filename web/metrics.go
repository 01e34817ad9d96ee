package web

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"postern/access"
	"postern/store"
)

// scrapeTimeout bounds the database reads one scrape makes.
const scrapeTimeout = 5 * time.Second

// Metrics is what GET /metrics reports in Prometheus's text format. The
// rest of the appliance feeds it through plain method calls (Event,
// MailAttempt), so only this file knows the client library; what the
// database already holds (outbox depth, its size, the access points) is
// read at each scrape instead of being counted twice.
type Metrics struct {
	reg           *prometheus.Registry
	presentations *prometheus.CounterVec
	latency       prometheus.Histogram
	mailFailures  *prometheus.CounterVec
	requests      *prometheus.CounterVec

	mu      sync.Mutex
	readers func() []int64 // access point ids with a reader running
}

// NewMetrics registers every metric; st is read at scrape time.
func NewMetrics(st *store.Store, version string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		presentations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postern_presentations_total",
			Help: "Keys presented at readers, by result (granted, denied, rejected: a response the protocol refused) and reason.",
		}, []string{"result", "reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "postern_decision_latency_seconds",
			Help:    "From the reader's challenge to the decision being committed.",
			Buckets: []float64{.01, .025, .05, .1, .2, .3, .5, .8, 1.2, 2},
		}),
		mailFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postern_outbox_failures_total",
			Help: "Failed attempts to send an email, by what follows: retry later, or gave up (the admin retries by hand).",
		}, []string{"outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "postern_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "postern_build_info", Help: "Always 1; the version is a label.", ConstLabels: prometheus.Labels{"version": version},
	})
	buildInfo.Set(1)
	m.reg.MustRegister(m.presentations, m.latency, m.mailFailures, m.requests, buildInfo,
		&storeCollector{st: st, m: m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every series present from the start, so a rate over a restart or a
	// quiet day is 0, not missing.
	m.presentations.WithLabelValues("granted", access.ReasonGranted.String())
	for _, o := range []string{"retry", "gave_up"} {
		m.mailFailures.WithLabelValues(o)
	}
	return m
}

// WatchReaders tells the metrics which readers are running: f returns the
// ids of the access points whose reader is up.
func (m *Metrics) WatchReaders(f func() []int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.readers = f
}

// Event counts an event from the log: decisions and refused responses are
// presentations; every other kind is not counted here.
func (m *Metrics) Event(e access.Event) {
	result, ok := strings.CutPrefix(e.Kind, "access.")
	if !ok {
		return
	}
	m.presentations.WithLabelValues(result, e.Reason).Inc()
	if result == "granted" || result == "denied" {
		m.latency.Observe(e.Latency.Seconds())
	}
}

// MailAttempt counts a failed send; err nil (sent) is not counted.
// gaveUp says no retry follows.
func (m *Metrics) MailAttempt(err error, gaveUp bool) {
	switch {
	case err == nil:
	case gaveUp:
		m.mailFailures.WithLabelValues("gave_up").Inc()
	default:
		m.mailFailures.WithLabelValues("retry").Inc()
	}
}

func (m *Metrics) request(route, method string, code int) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
}

// storeCollector reads the database at scrape time: the outbox's depth,
// the database's size, and which access points have their reader up.
type storeCollector struct {
	st *store.Store
	m  *Metrics
}

var (
	outboxDepthDesc = prometheus.NewDesc("postern_outbox_queued", "Emails waiting to be sent.", nil, nil)
	dbSizeDesc      = prometheus.NewDesc("postern_database_size_bytes", "Size of the SQLite database, write-ahead log included.", nil, nil)
	readerUpDesc    = prometheus.NewDesc("postern_reader_up", "1 when the access point's reader is running, 0 when it is not (no such radio, or it failed).", []string{"access_point"}, nil)
)

func (sc *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDepthDesc
	ch <- dbSizeDesc
	ch <- readerUpDesc
}

// Collect reports what it can read; a failed read is reported to the
// scraper as an invalid metric rather than a silent gap.
func (sc *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if n, err := sc.st.CountQueuedMail(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(outboxDepthDesc, err)
	} else {
		ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, float64(n))
	}
	if n, err := sc.st.Size(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(dbSizeDesc, err)
	} else {
		ch <- prometheus.MustNewConstMetric(dbSizeDesc, prometheus.GaugeValue, float64(n))
	}
	sc.m.mu.Lock()
	readers := sc.m.readers
	sc.m.mu.Unlock()
	if readers == nil {
		return
	}
	aps, err := sc.st.AllAccessPoints(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(readerUpDesc, err)
		return
	}
	up := map[int64]bool{}
	for _, id := range readers() {
		up[id] = true
	}
	for _, ap := range aps {
		v := 0.0
		if up[ap.ID] {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(readerUpDesc, prometheus.GaugeValue, v, ap.Name)
	}
}

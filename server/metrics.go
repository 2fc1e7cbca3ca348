package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sessdb/sessdb/storage"
)

// Prometheus metrics: each Server has its own registry, served by the HTTP
// face at /metrics. Per-command counters and histograms are created once per
// command, so the request path does two atomic adds and an Observe, with no
// label lookups. Everything else is read at scrape time.

// commandMetrics are one command's series, made on its first use so that
// the exposition lists only the commands that ran.
type commandMetrics struct {
	once       sync.Once
	name       string
	ok, failed prometheus.Counter
	latency    prometheus.Observer
}

type metrics struct {
	reg     *prometheus.Registry
	calls   *prometheus.CounterVec
	latency *prometheus.HistogramVec
	unknown *commandMetrics // names not in the table
}

func (m *metrics) series(cm *commandMetrics) *commandMetrics {
	cm.once.Do(func() {
		cm.ok = m.calls.WithLabelValues(cm.name, "ok")
		cm.failed = m.calls.WithLabelValues(cm.name, "error")
		cm.latency = m.latency.WithLabelValues(cm.name)
	})
	return cm
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sessdb_commands_total",
		Help: "Commands processed, by command and result (ok, or error when the reply was an error).",
	}, []string{"command", "result"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sessdb_command_duration_seconds",
		Help:    "Time to run a command, excluding the wait for its commit to be durable.",
		Buckets: []float64{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1},
	}, []string{"command"})
	m.calls, m.latency = calls, latency
	for name, cmd := range s.table {
		cmd.metrics = &commandMetrics{name: name}
	}
	m.unknown = &commandMetrics{name: "unknown"}

	db := s.db
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	sess := func(f func(st sessionStats) int64) func() float64 {
		return func() float64 { return float64(f(sessionStats(db.Sessions().Stats()))) }
	}
	m.reg.MustRegister(
		calls, latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		gauge("sessdb_connected_clients", "Connected RESP clients.", func() float64 { return float64(s.Clients()) }),
		counter("sessdb_connections_received_total", "RESP connections accepted.", func() float64 { return float64(s.stats.connections.Load()) }),
		gauge("sessdb_sessions_live", "Live sessions (until reclaimed after their deadline).", sess(func(st sessionStats) int64 { return st.Live })),
		gauge("sessdb_session_users", "Users with at least one live session.", sess(func(st sessionStats) int64 { return st.Users })),
		counter("sessdb_sessions_created_total", "Sessions created.", sess(func(st sessionStats) int64 { return st.Created })),
		counter("sessdb_sessions_revoked_total", "Sessions revoked.", sess(func(st sessionStats) int64 { return st.Revoked })),
		counter("sessdb_sessions_expired_total", "Sessions expired.", sess(func(st sessionStats) int64 { return st.Expired })),
		counter("sessdb_session_invalid_lookups_total", "Lookups with an unknown, wrong, expired or revoked token.", sess(func(st sessionStats) int64 { return st.InvalidLookups })),
		gauge("sessdb_expiry_backlog", "Keys with a deadline still in memory (due or not).", func() float64 { return float64(db.Store().ExpiryBacklog()) }),
		gauge("sessdb_jwt_keys", "Signing keys in the JWK Set.", func() float64 {
			if j, err := s.JWT(); err == nil {
				return float64(len(j.KeyIDs()))
			}
			return 0
		}),
		keysCollector{s},
		commitCollector{db.Store()},
	)
	return m
}

// sessionStats mirrors sessdb.SessionStats so that the closures above stay short.
type sessionStats struct{ Live, Users, Created, Revoked, Expired, InvalidLookups int64 }

// observe counts one command: its name from the table (subcommands count
// under their container), ok or error from whether it wrote an error
// reply, and its latency.
func (m *metrics) observe(c *Client, cmd *command, start time.Time, errsBefore int) {
	cm := m.unknown
	if cmd != nil && cmd.metrics != nil {
		cm = cmd.metrics
	}
	cm = m.series(cm)
	cm.latency.Observe(time.Since(start).Seconds())
	if c.errorReplies != errsBefore {
		cm.failed.Inc()
	} else {
		cm.ok.Inc()
	}
}

// keysCollector reports the keys of each visible database.
type keysCollector struct{ s *Server }

var keysDesc = prometheus.NewDesc("sessdb_keys", "Keys in each logical database.", []string{"db"}, nil)

func (k keysCollector) Describe(ch chan<- *prometheus.Desc) { ch <- keysDesc }

func (k keysCollector) Collect(ch chan<- prometheus.Metric) {
	_ = k.s.db.View(func(tx *storage.Tx) error {
		for d := 0; d < tx.Databases(); d++ {
			if n, _ := tx.Size(d); n > 0 {
				ch <- prometheus.MustNewConstMetric(keysDesc, prometheus.GaugeValue, float64(n), strconv.Itoa(d))
			}
		}
		return nil
	})
}

// commitCollector exports the storage layer's commit histograms.
type commitCollector struct{ st *storage.Store }

var (
	commitBatchDesc = prometheus.NewDesc("sessdb_commit_batch_records", "Records per group commit.", nil, nil)
	commitTimeDesc  = prometheus.NewDesc("sessdb_commit_duration_seconds", "Time of one group commit: the bbolt transaction and its fsyncs.", nil, nil)
	commitFailDesc  = prometheus.NewDesc("sessdb_commit_failures_total", "Group commits that failed (their records are retried).", nil, nil)
	commitCountDesc = prometheus.NewDesc("sessdb_commit_records_total", "Records committed.", nil, nil)
)

func (cc commitCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- commitBatchDesc
	ch <- commitTimeDesc
	ch <- commitFailDesc
	ch <- commitCountDesc
}

func (cc commitCollector) Collect(ch chan<- prometheus.Metric) {
	h := cc.st.CommitHistograms()
	hist := func(d *prometheus.Desc, s storage.HistogramSnapshot) prometheus.Metric {
		b := make(map[float64]uint64, len(s.Bounds))
		for i, ub := range s.Bounds {
			b[ub] = s.Cumulative[i]
		}
		return prometheus.MustNewConstHistogram(d, s.Count, s.Sum, b)
	}
	ch <- hist(commitBatchDesc, h.Batch)
	ch <- hist(commitTimeDesc, h.Duration)
	ch <- prometheus.MustNewConstMetric(commitFailDesc, prometheus.CounterValue, float64(h.Failed))
	ch <- prometheus.MustNewConstMetric(commitCountDesc, prometheus.CounterValue, float64(cc.st.Stats().Records))
}

// MetricsHandler serves the Prometheus exposition of the server's metrics.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{MaxRequestsInFlight: 4})
}

// Metrics returns the server's metrics registry, for tests and embedding.
func (s *Server) Metrics() prometheus.Gatherer { return s.metrics.reg }

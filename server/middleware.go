package main

import (
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"focalpoint/models"
)

// contentSecurityPolicy allows only our own files: no inline script or
// style anywhere, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every answer carries. Dynamic answers are
// not cached (they may hold personal links); static files override that.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		// Canonical keys and one shared value slice each (never modified:
		// a later Set replaces the slice, an Add appends to a new one).
		for _, kv := range fixedHeaders {
			h[kv.key] = kv.value
		}
		if c.IsTLS() || c.Request().Header.Get("X-Forwarded-Proto") == "https" {
			h["Strict-Transport-Security"] = hstsValue
		}
		return next(c)
	}
}

// fixedHeaders are the headers of every answer.
var fixedHeaders = [...]struct {
	key   string
	value []string
}{
	{"Content-Security-Policy", []string{contentSecurityPolicy}},
	{"X-Content-Type-Options", []string{"nosniff"}},
	{"X-Frame-Options", []string{"DENY"}},
	// Personal links carry secrets in the path: never leak them.
	{"Referrer-Policy", []string{"no-referrer"}},
	{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=()"}},
	{"Cache-Control", []string{"no-store"}},
}

var hstsValue = []string{"max-age=63072000; includeSubDomains"}

// requestLogger logs each request once, with its request id.
func requestLogger(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			// Personal links hold secrets: log the route, not the path.
			log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request", slog.String("method", c.Request().Method), slog.String("route", c.Path()),
				slog.Int("status", status), slog.Int64("ms", time.Since(start).Milliseconds()),
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)))
			return nil
		}
	}
}

// metrics counts requests per route and status, and their durations.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// counters and histograms cache the series by label set.
	counters, histograms sync.Map
}

// registerSQLiteMetrics exposes the SQLite write path: group commits
// (writes per transaction is their ratio), WAL fsyncs, and the response
// memo's hits and misses.
func registerSQLiteMetrics(reg prometheus.Registerer, s *models.Store) {
	counter := func(name, help string, f func() int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f()) })
	}
	memo := func(hit bool) func() int64 {
		return func() int64 {
			h, m := s.ResponseMemoStats()
			if hit {
				return h
			}
			return m
		}
	}
	reg.MustRegister(
		counter("focal_sqlite_write_transactions_total", "Transactions the SQLite writer committed (group commits).", s.Batches),
		counter("focal_sqlite_writes_total", "Writes those transactions held.", s.BatchedWrites),
		counter("focal_sqlite_wal_fsyncs_total", "Fsyncs of the SQLite write-ahead log before writes were acknowledged.", s.WALSyncs),
		counter("focal_response_memo_hits_total", "Submits that took the response from the memo instead of reading it.", memo(true)),
		counter("focal_response_memo_misses_total", "Submits that read the response.", memo(false)),
	)
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "focal_http_requests_total", Help: "HTTP requests by route and status."}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "focal_http_request_seconds", Help: "HTTP request durations.", Buckets: prometheus.DefBuckets}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method, status := c.Request().Method, c.Response().Status
		m.counter(method, route, status).Inc()
		m.histogram(method, route).Observe(time.Since(start).Seconds())
		return nil
	}
}

// counter and histogram keep each label set's series, so a request does
// not hash its labels again (the label sets are few: routes × methods ×
// statuses).
type seriesKey struct {
	method, route string
	status        int
}

func (m *metrics) counter(method, route string, status int) prometheus.Counter {
	k := seriesKey{method, route, status}
	if v, ok := m.counters.Load(k); ok {
		return v.(prometheus.Counter)
	}
	ctr := m.requests.WithLabelValues(method, route, strconv.Itoa(status))
	m.counters.Store(k, ctr)
	return ctr
}

func (m *metrics) histogram(method, route string) prometheus.Observer {
	k := seriesKey{method: method, route: route}
	if v, ok := m.histograms.Load(k); ok {
		return v.(prometheus.Observer)
	}
	o := m.duration.WithLabelValues(method, route)
	m.histograms.Store(k, o)
	return o
}

// staticCache marks checksum-addressed static files as immutable.
func staticCache(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		return next(c)
	}
}

// stripStaticSum removes the checksum segment from /static/<sum>/path.
func stripStaticSum(p string) string {
	p = strings.TrimPrefix(p, "/static/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

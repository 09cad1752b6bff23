package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The load driver plays respondents over HTTP against a running server,
// through the respondent calls of API.md:
//
//	GET  /api/v1/respond/{token}               open the link
//	PUT  /api/v1/respond/{token}/demographics  about you
//	PUT  /api/v1/respond/{token}/answers       save ({"version","answers"})
//	POST /api/v1/respond/{token}/submit        submit
//
// Flows:
//   - "save-submit": each token is first opened and given demographics
//     (not timed), then the timed phase cycles through the tokens doing
//     save + submit, again and again (a resubmission is allowed until the
//     round closes; the last one counts). The rate is submissions/s.
//   - "journey": open, demographics, save, submit, once per token (timed).
//   - "page": each worker opens one personal link GET /r/{token} (which
//     may set a session and redirect), then loads the page it leads to
//     again and again: a respondent with saved answers; pages/s.
//   - "page-open": GET /r/{token} with a fresh cookie jar each time,
//     following its redirect (two requests per page view).
//   - "get": a plain GET of Path (the bare baseline page).
//
// It is bounded by count and time, and talks to loopback addresses only.

// LoadConfig describes one run.
type LoadConfig struct {
	BaseURL     string
	Tokens      []string
	Flow        string
	Concurrency int
	// Duration bounds the timed phase; Max bounds its units (0: no bound
	// but the duration, or one pass over the tokens for "journey").
	Duration time.Duration
	Max      int
	// Path is the page of the "get" flow.
	Path string
	// Seed varies the answers.
	Seed uint64
	// Record keeps every acknowledged and attempted write (for tests).
	Record bool
	// OnTimed, when set, is called as the timed phase starts.
	OnTimed func()
	// Slices splits the timed phase of the save-submit and page flows
	// into this many slices of Duration/Slices (0 or 1: one). Between two
	// slices every worker stops, with no request in flight, and Between
	// runs: a baseline's slice, so that the two are measured interleaved
	// and share the machine's slower and faster moments. Elapsed counts
	// the slices only.
	Slices  int
	Between func()
}

// OpStats are the latencies of one kind of request.
type OpStats struct {
	Count  int           `json:"count"`
	Errors int           `json:"errors"`
	P50    time.Duration `json:"p50"`
	P99    time.Duration `json:"p99"`
	lat    []time.Duration
}

// LoadReport is the outcome of a run.
type LoadReport struct {
	Flow        string              `json:"flow"`
	Concurrency int                 `json:"concurrency"`
	Elapsed     time.Duration       `json:"elapsed"`
	Units       int                 `json:"units"` // submissions or pages completed
	Rate        float64             `json:"rate"`  // units per second
	P50, P99    time.Duration       // of one unit (save+submit, or a page)
	Errors      int                 `json:"errors"`
	Ops         map[string]*OpStats `json:"ops"`
	ErrorSample []string            `json:"error_sample,omitempty"`
	unitLat     []time.Duration     // sorted, for MergeReports
	// Log lists, per token, each write attempted in order and whether it
	// was acknowledged (2xx). Only with Record.
	Log map[string][]Write `json:"-"`
}

// Write is one save or submit the driver sent.
type Write struct {
	Op      string         // "save" or "submit"
	Cycle   int            // the driver's cycle number for this token
	Answers map[string]any // what the save carried (the submit submits it)
	Acked   bool
	Status  int
}

// CheckLoopback refuses any base URL that is not on this machine.
func CheckLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return fmt.Errorf("bad base URL %q", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("the load driver only talks to loopback addresses, not %q", host)
	}
	return nil
}

type driver struct {
	cfg       LoadConfig
	transport *http.Transport
	mu        sync.Mutex
	ops       map[string]*OpStats
	units     []time.Duration
	errs      []string
	nerr      int
	log       map[string][]Write
}

// RunLoad runs one load and reports it.
func RunLoad(ctx context.Context, cfg LoadConfig) (*LoadReport, error) {
	if err := CheckLoopback(cfg.BaseURL); err != nil {
		return nil, err
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 30 * time.Second
	}
	if cfg.Flow != "get" && len(cfg.Tokens) == 0 {
		return nil, errors.New("no tokens to play")
	}
	d := &driver{cfg: cfg, ops: map[string]*OpStats{}, log: map[string][]Write{},
		transport: &http.Transport{MaxIdleConns: cfg.Concurrency * 2, MaxIdleConnsPerHost: cfg.Concurrency * 2,
			IdleConnTimeout: time.Minute, DisableCompression: true}}
	defer d.transport.CloseIdleConnections()
	switch cfg.Flow {
	case "save-submit":
		return d.saveSubmit(ctx)
	case "journey":
		return d.journey(ctx)
	case "page", "page-open", "get":
		return d.pages(ctx)
	}
	return nil, fmt.Errorf("unknown flow %q (save-submit, journey, page, page-open, get)", cfg.Flow)
}

// respondState is what the driver knows of one respondent.
type respondState struct {
	token     string
	version   float64
	questions []apiQuestion
	cycle     int
}

type apiQuestion struct {
	ID       int64       `json:"id"`
	Kind     string      `json:"kind"`
	Required bool        `json:"required"`
	Options  []apiChoice `json:"options"`
	Rows     []apiChoice `json:"rows"`
	Min      *float64    `json:"min"`
	Max      *float64    `json:"max"`
}

type apiChoice struct {
	Value string `json:"value"`
}

func (d *driver) client(jar bool) *http.Client {
	c := &http.Client{Transport: d.transport, Timeout: 60 * time.Second}
	if jar {
		c.Jar, _ = cookiejar.New(nil)
	}
	return c
}

// do sends one request and records its latency under op.
func (d *driver) do(ctx context.Context, c *http.Client, op, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.cfg.BaseURL+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	t0 := time.Now()
	resp, err := c.Do(req)
	var raw []byte
	if err == nil {
		raw, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	lat := time.Since(t0)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	ok := err == nil && status >= 200 && status < 300
	if ok && out != nil {
		if jerr := json.Unmarshal(raw, out); jerr != nil {
			ok, err = false, fmt.Errorf("%s: bad JSON: %v", op, jerr)
		}
	}
	d.mu.Lock()
	st := d.ops[op]
	if st == nil {
		st = &OpStats{}
		d.ops[op] = st
	}
	st.Count++
	st.lat = append(st.lat, lat)
	if !ok && ctx.Err() == nil {
		st.Errors++
		d.nerr++
		if len(d.errs) < 10 {
			msg := fmt.Sprintf("%s %s: %d %s", method, redactToken(path), status, truncate(string(raw), 200))
			if err != nil {
				msg = fmt.Sprintf("%s %s: %v", method, redactToken(path), err)
			}
			d.errs = append(d.errs, msg)
		}
	}
	d.mu.Unlock()
	if err == nil && !ok {
		err = fmt.Errorf("%s: status %d", op, status)
	}
	return status, err
}

// redactToken keeps secret links out of reports.
func redactToken(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if len(s) >= 32 {
			parts[i] = s[:4] + "…"
		}
	}
	return strings.Join(parts, "/")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// open GETs the respondent document and gives demographics when needed.
func (d *driver) open(ctx context.Context, c *http.Client, st *respondState, r *rand.Rand) error {
	var doc struct {
		Status       string        `json:"status"`
		Version      float64       `json:"version"`
		Questions    []apiQuestion `json:"questions"`
		Demographics any           `json:"demographics"`
	}
	if _, err := d.do(ctx, c, "open", "GET", "/api/v1/respond/"+st.token, nil, &doc); err != nil {
		return err
	}
	st.version, st.questions = doc.Version, doc.Questions
	if !hasDemographics(doc.Demographics) {
		countries := []string{"FR", "KE", "BR", "IN", "PL", "AT", "NG", "prefer_not_to_say"}
		body := map[string]any{"gender": []string{"female", "male", "other", "prefer_not_to_say"}[r.IntN(4)],
			"institution_type": []string{"government", "ngo", "academia", "international_organization"}[r.IntN(4)],
			"country":          countries[r.IntN(len(countries))], "consent": true}
		if _, err := d.do(ctx, c, "demographics", "PUT", "/api/v1/respond/"+st.token+"/demographics", body, nil); err != nil {
			return err
		}
	}
	return nil
}

func hasDemographics(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	g, _ := m["gender"].(string)
	return g != ""
}

// answersFor builds valid answers to every question; the long texts carry
// the token's cycle so a test can tell which save landed.
func answersFor(st *respondState, r *rand.Rand) map[string]any {
	out := map[string]any{}
	for _, q := range st.questions {
		k := strconv.FormatInt(q.ID, 10)
		switch q.Kind {
		case "long_text":
			out[k] = fmt.Sprintf("cycle %d. ", st.cycle) + Text(r, pickScript(r), wordCount(r, 40))
		case "short_text":
			out[k] = fmt.Sprintf("cycle %d", st.cycle)
		case "single_choice", "yes_no":
			if len(q.Options) > 0 {
				out[k] = q.Options[r.IntN(len(q.Options))].Value
			} else if q.Kind == "yes_no" {
				out[k] = []string{"yes", "no"}[r.IntN(2)]
			}
		case "multi_choice":
			var vs []string
			for _, o := range q.Options {
				if r.IntN(2) == 0 {
					vs = append(vs, o.Value)
				}
			}
			if len(vs) == 0 && len(q.Options) > 0 {
				vs = append(vs, q.Options[0].Value)
			}
			out[k] = vs
		case "matrix_yes_no":
			m := map[string]string{}
			for _, row := range q.Rows {
				m[row.Value] = []string{"yes", "no"}[r.IntN(2)]
			}
			out[k] = m
		case "scale", "number":
			lo, hi := 1.0, 5.0
			if q.Min != nil {
				lo = *q.Min
			}
			if q.Max != nil {
				hi = *q.Max
			}
			out[k] = lo + float64(r.IntN(int(hi-lo)+1))
		case "country":
			out[k] = "KE"
		}
	}
	return out
}

// saveSubmit saves then submits; it records the writes for tests.
func (d *driver) saveSubmitOnce(ctx context.Context, c *http.Client, st *respondState, r *rand.Rand) error {
	st.cycle++
	ans := answersFor(st, r)
	var saved struct {
		Version float64 `json:"version"`
	}
	t0 := time.Now()
	status, err := d.do(ctx, c, "save", "PUT", "/api/v1/respond/"+st.token+"/answers", map[string]any{"version": st.version, "answers": ans}, &saved)
	d.record(st.token, Write{Op: "save", Cycle: st.cycle, Answers: ans, Acked: err == nil, Status: status})
	if err != nil {
		if status == http.StatusConflict { // stale: reopen and go on
			_ = d.open(ctx, c, st, r)
		}
		return err
	}
	st.version = saved.Version
	var submitted struct {
		Version *float64 `json:"version"`
	}
	status, err = d.do(ctx, c, "submit", "POST", "/api/v1/respond/"+st.token+"/submit", nil, &submitted)
	d.record(st.token, Write{Op: "submit", Cycle: st.cycle, Answers: ans, Acked: err == nil, Status: status})
	if err != nil {
		if status == http.StatusConflict {
			_ = d.open(ctx, c, st, r)
		}
		return err
	}
	if submitted.Version != nil {
		st.version = *submitted.Version
	} else {
		st.version++ // a submit moves the version on
	}
	d.mu.Lock()
	d.units = append(d.units, time.Since(t0))
	d.mu.Unlock()
	return nil
}

func (d *driver) record(tok string, w Write) {
	if !d.cfg.Record {
		return
	}
	d.mu.Lock()
	d.log[tok] = append(d.log[tok], w)
	d.mu.Unlock()
}

func (d *driver) saveSubmit(ctx context.Context) (*LoadReport, error) {
	// Prepare: open every token and give demographics (not timed).
	states := make([]*respondState, len(d.cfg.Tokens))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < d.cfg.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := d.client(false)
			r := rand.New(rand.NewPCG(d.cfg.Seed, uint64(w)))
			for {
				i := int(next.Add(1)) - 1
				if i >= len(states) || ctx.Err() != nil {
					return
				}
				st := &respondState{token: d.cfg.Tokens[i]}
				if d.open(ctx, c, st, r) == nil {
					states[i] = st
				}
			}
		}(w)
	}
	wg.Wait()
	var ready []*respondState
	for _, st := range states {
		if st != nil {
			ready = append(ready, st)
		}
	}
	if len(ready) < d.cfg.Concurrency {
		first := ""
		if len(d.errs) > 0 {
			first = "; first error: " + d.errs[0]
		}
		return nil, fmt.Errorf("only %d of %d tokens could be opened (need at least one per worker)%s", len(ready), len(states), first)
	}
	prepOps := d.ops
	d.ops = map[string]*OpStats{}
	// Timed: each worker owns every Concurrency-th token, so no two
	// workers write the same respondent at once.
	var done atomic.Int64
	steps := make([]func(context.Context) bool, d.cfg.Concurrency)
	for w := range steps {
		c := d.client(false)
		r := rand.New(rand.NewPCG(d.cfg.Seed, uint64(1000+w)))
		var own []*respondState
		for j := w; j < len(ready); j += d.cfg.Concurrency {
			own = append(own, ready[j])
		}
		k := 0
		steps[w] = func(ctx context.Context) bool {
			if d.cfg.Max > 0 && done.Add(1) > int64(d.cfg.Max) {
				return false
			}
			_ = d.saveSubmitOnce(ctx, c, own[k%len(own)], r)
			k++
			return true
		}
	}
	rep := d.report(d.runTimed(ctx, steps))
	for k, v := range prepOps {
		rep.Ops["prepare_"+k] = v
		summarise(v)
	}
	return rep, nil
}

func (d *driver) journey(ctx context.Context) (*LoadReport, error) {
	tctx, cancel := context.WithTimeout(ctx, d.cfg.Duration)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	limit := len(d.cfg.Tokens)
	if d.cfg.Max > 0 {
		limit = min(limit, d.cfg.Max)
	}
	start := time.Now()
	for w := 0; w < d.cfg.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := d.client(false)
			r := rand.New(rand.NewPCG(d.cfg.Seed, uint64(w)))
			for tctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= limit {
					return
				}
				st := &respondState{token: d.cfg.Tokens[i]}
				if d.open(tctx, c, st, r) != nil {
					continue
				}
				_ = d.saveSubmitOnce(tctx, c, st, r)
			}
		}(w)
	}
	wg.Wait()
	return d.report(time.Since(start)), nil
}

func (d *driver) pages(ctx context.Context) (*LoadReport, error) {
	var n atomic.Int64
	var steps []func(context.Context) bool
	for w := 0; w < d.cfg.Concurrency; w++ {
		c := d.client(d.cfg.Flow != "get")
		path := d.cfg.Path
		if d.cfg.Flow == "page" {
			// Open the personal link once (it may set a session and
			// redirect); then load the page it leads to.
			u, err := d.follow(ctx, c, "/r/"+d.cfg.Tokens[w%len(d.cfg.Tokens)])
			if err != nil {
				continue
			}
			path = u
		}
		i := w
		steps = append(steps, func(ctx context.Context) bool {
			if d.cfg.Max > 0 && n.Add(1) > int64(d.cfg.Max) {
				return false
			}
			if d.cfg.Flow == "page-open" {
				c.Jar, _ = cookiejar.New(nil)
				path = "/r/" + d.cfg.Tokens[i%len(d.cfg.Tokens)]
			}
			i += d.cfg.Concurrency
			t0 := time.Now()
			if err := d.getPage(ctx, c, path); err == nil {
				d.mu.Lock()
				d.units = append(d.units, time.Since(t0))
				d.mu.Unlock()
			}
			return true
		})
	}
	return d.report(d.runTimed(ctx, steps)), nil
}

// runTimed runs the timed phase: each step does one unit of its worker
// (false: the worker is done), all workers at once, for Duration, in
// Slices slices with Between run between them. A slice stops starting
// units at its end and waits for those in flight, which count: the time
// returned covers the slices, end to end, and nothing else.
func (d *driver) runTimed(ctx context.Context, steps []func(context.Context) bool) time.Duration {
	slices := max(1, d.cfg.Slices)
	finished := make([]bool, len(steps))
	var elapsed time.Duration
	if d.cfg.OnTimed != nil {
		d.cfg.OnTimed()
	}
	for sl := 0; sl < slices && ctx.Err() == nil; sl++ {
		if sl > 0 && d.cfg.Between != nil {
			d.cfg.Between()
		}
		start := time.Now()
		end := start.Add(d.cfg.Duration / time.Duration(slices))
		var wg sync.WaitGroup
		for w, step := range steps {
			if finished[w] {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil && time.Now().Before(end) {
					if !step(ctx) {
						finished[w] = true
						return
					}
				}
			}()
		}
		wg.Wait()
		elapsed += time.Since(start)
	}
	return elapsed
}

// follow GETs path, following redirects, and returns the final path.
func (d *driver) follow(ctx context.Context, c *http.Client, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", d.cfg.BaseURL+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		d.noteErr("GET "+redactToken(path), err)
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		err := fmt.Errorf("status %d", resp.StatusCode)
		d.noteErr("GET "+redactToken(path), err)
		return "", err
	}
	return resp.Request.URL.RequestURI(), nil
}

func (d *driver) noteErr(what string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nerr++
	if len(d.errs) < 10 {
		d.errs = append(d.errs, what+": "+err.Error())
	}
}

func (d *driver) getPage(ctx context.Context, c *http.Client, path string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", d.cfg.BaseURL+path, nil)
	if err != nil {
		return err
	}
	t0 := time.Now()
	resp, err := c.Do(req)
	status := 0
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.ops["page"]
	if st == nil {
		st = &OpStats{}
		d.ops["page"] = st
	}
	st.Count++
	st.lat = append(st.lat, time.Since(t0))
	if err == nil && status != 200 {
		err = fmt.Errorf("status %d", status)
	}
	if err != nil && ctx.Err() == nil {
		st.Errors++
		d.nerr++
		if len(d.errs) < 10 {
			d.errs = append(d.errs, fmt.Sprintf("GET %s: %v", redactToken(path), err))
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// PageSize fetches one page (following redirects with cookies) and returns
// its size in bytes, for the bare page baseline.
func PageSize(ctx context.Context, base, path string) (int, error) {
	n, _, err := FinalPage(ctx, base, path)
	return n, err
}

// FinalPage fetches path, following redirects with cookies, and returns
// the size and the address of the page it ends on.
func FinalPage(ctx context.Context, base, path string) (int, string, error) {
	if err := CheckLoopback(base); err != nil {
		return 0, "", err
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(base, "/")+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return 0, "", fmt.Errorf("GET %s: status %d", redactToken(path), resp.StatusCode)
	}
	return len(b), resp.Request.URL.Path, err
}

func summarise(s *OpStats) {
	sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
	s.P50, s.P99 = pct(s.lat, 0.50), pct(s.lat, 0.99)
}

func pct(l []time.Duration, p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(float64(len(l))*p))]
}

func (d *driver) report(elapsed time.Duration) *LoadReport {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.ops {
		summarise(s)
	}
	sort.Slice(d.units, func(i, j int) bool { return d.units[i] < d.units[j] })
	return &LoadReport{Flow: d.cfg.Flow, Concurrency: d.cfg.Concurrency, Elapsed: elapsed, Units: len(d.units),
		Rate: float64(len(d.units)) / elapsed.Seconds(), P50: pct(d.units, 0.5), P99: pct(d.units, 0.99),
		Errors: d.nerr, Ops: d.ops, ErrorSample: d.errs, Log: d.log, unitLat: d.units}
}

// MergeReports adds up the reports of one flow run in pieces (a baseline
// run a slice at a time): units, time and errors summed, the latencies of
// all units together. Ops and Log are left out.
func MergeReports(reps ...*LoadReport) *LoadReport {
	m := &LoadReport{}
	for _, r := range reps {
		m.Flow, m.Concurrency = r.Flow, r.Concurrency
		m.Elapsed += r.Elapsed
		m.Units += r.Units
		m.Errors += r.Errors
		m.ErrorSample = append(m.ErrorSample, r.ErrorSample...)
		m.unitLat = append(m.unitLat, r.unitLat...)
	}
	sort.Slice(m.unitLat, func(i, j int) bool { return m.unitLat[i] < m.unitLat[j] })
	if m.Elapsed > 0 {
		m.Rate = float64(m.Units) / m.Elapsed.Seconds()
	}
	m.P50, m.P99 = pct(m.unitLat, 0.5), pct(m.unitLat, 0.99)
	return m
}

// String prints the report as a few lines.
func (r *LoadReport) String() string {
	var b strings.Builder
	unit := "submissions"
	if r.Flow == "page" || r.Flow == "page-open" || r.Flow == "get" {
		unit = "pages"
	}
	fmt.Fprintf(&b, "%s, %d concurrent: %d %s in %.1f s = %.0f/s, p50 %s, p99 %s, %d errors\n",
		r.Flow, r.Concurrency, r.Units, unit, r.Elapsed.Seconds(), r.Rate, ms(r.P50), ms(r.P99), r.Errors)
	names := make([]string, 0, len(r.Ops))
	for k := range r.Ops {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		s := r.Ops[k]
		fmt.Fprintf(&b, "  %-22s %7d requests, p50 %s, p99 %s, %d errors\n", k, s.Count, ms(s.P50), ms(s.P99), s.Errors)
	}
	for _, e := range r.ErrorSample {
		fmt.Fprintf(&b, "  error: %s\n", e)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

package ops

import (
	_ "embed"
	"net/http"
	"sync"
	"time"

	"github.com/switchboard/switchboard/b2bua"
)

// dashboardHTML is the live dashboard: one static page that reads the API
// with the token the operator gives it (see dashboard/index.html).
//
//go:embed dashboard/index.html
var dashboardHTML []byte

// serveDashboard serves the page. It holds no data, so it needs no token;
// everything it shows comes from the API, which does.
func serveDashboard(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	w.Header().Set("X-Frame-Options", "DENY")
	_, _ = w.Write(dashboardHTML)
}

// Sample is one point of the last hour's history.
type Sample struct {
	Time  time.Time `json:"time"`
	Calls int       `json:"calls"`
	// MOS is the mean receive MOS of the legs of the calls up (0: none).
	MOS float64 `json:"mos"`
}

const (
	sampleEvery = 10 * time.Second
	historyLen  = int(time.Hour / sampleEvery)
)

// history keeps the last hour of samples in a ring.
type history struct {
	mu   sync.Mutex
	ring []Sample
	next int
}

func (h *history) add(s Sample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ring) < historyLen {
		h.ring = append(h.ring, s)
		return
	}
	h.ring[h.next] = s
	h.next = (h.next + 1) % historyLen
}

// samples returns the history oldest first.
func (h *history) samples() []Sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Sample, 0, len(h.ring))
	out = append(out, h.ring[h.next:]...)
	return append(out, h.ring[:h.next]...)
}

// sample measures now.
func sample(sw Switch, now time.Time) Sample {
	s := Sample{Time: now}
	calls := sw.Calls()
	s.Calls = len(calls)
	n := 0
	for _, c := range calls {
		s.MOS += meanMOS(c, &n)
	}
	if n > 0 {
		s.MOS /= float64(n)
	}
	return s
}

// meanMOS adds up the receive MOS of the call's legs with media, counting
// them in n.
func meanMOS(c b2bua.CallInfo, n *int) float64 {
	if c.Quality == nil {
		return 0
	}
	sum := 0.0
	for _, l := range c.Quality.Legs {
		if l.Received.Packets > 0 && l.Received.MOS > 0 {
			sum += l.Received.MOS
			*n++
		}
	}
	return sum
}

// sampler records a sample at start and every sampleEvery until stop.
func (s *Server) sampler(stop <-chan struct{}) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	s.hist.add(sample(s.o.Switch, time.Now()))
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			s.hist.add(sample(s.o.Switch, now))
		}
	}
}

func (s *Server) history(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.hist.samples())
}

package ops

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard/b2bua"
	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/registrar"
)

// Switch is what the API needs of the running switch (b2bua.Server).
type Switch interface {
	Calls() []b2bua.CallInfo
	Hangup(id string) bool
	Record(id string, on bool) (string, error)
	Registrations() []registrar.Binding
	Stats() b2bua.Stats
	ObserveRecords(f func(*cdr.Record))
}

var _ Switch = (*b2bua.Server)(nil)

// Options configure a Server.
type Options struct {
	// Addr is the host:port to serve on.
	Addr string
	// Token is the bearer token requests must carry; it must not be empty.
	Token string
	// MetricsOpen serves /metrics without the token.
	MetricsOpen bool
	// Switch is the running switch.
	Switch Switch
	// Reload re-reads the configuration as SIGHUP does and says why it was
	// refused; Drain starts the drain SIGTERM starts. Either may be nil
	// (the endpoint then answers 501).
	Reload func() error
	Drain  func()
	// Version is reported by /api/v1/status.
	Version string
	Log     *slog.Logger
}

// Server serves the API and /metrics.
type Server struct {
	o       Options
	metrics *Metrics
	http    *http.Server
	ln      net.Listener
	started time.Time
	hist    history
	stop    chan struct{}
	done    chan struct{}
}

// New binds the address and starts serving. The switch's records feed the
// metrics from now on.
func New(o Options) (*Server, error) {
	if o.Token == "" {
		return nil, errors.New("ops: an API token is required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, ln: ln, started: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	s.metrics = NewMetrics(o.Switch.Stats)
	o.Switch.ObserveRecords(s.metrics.Observe)

	mux := http.NewServeMux()
	metrics := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	if o.MetricsOpen {
		mux.Handle("GET /metrics", metrics)
	} else {
		mux.Handle("GET /metrics", s.auth(metrics))
	}
	mux.Handle("GET /api/v1/calls", s.auth(http.HandlerFunc(s.calls)))
	mux.Handle("GET /api/v1/calls/{id}", s.auth(http.HandlerFunc(s.call)))
	mux.Handle("DELETE /api/v1/calls/{id}", s.auth(http.HandlerFunc(s.hangup)))
	mux.Handle("POST /api/v1/calls/{id}/recording", s.auth(http.HandlerFunc(s.startRecording)))
	mux.Handle("DELETE /api/v1/calls/{id}/recording", s.auth(http.HandlerFunc(s.stopRecording)))
	mux.Handle("GET /api/v1/registrations", s.auth(http.HandlerFunc(s.registrations)))
	mux.Handle("GET /api/v1/status", s.auth(http.HandlerFunc(s.status)))
	mux.Handle("POST /api/v1/reload", s.auth(http.HandlerFunc(s.reload)))
	mux.Handle("POST /api/v1/drain", s.auth(http.HandlerFunc(s.drain)))
	mux.Handle("GET /api/v1/history", s.auth(http.HandlerFunc(s.history)))
	mux.HandleFunc("GET /{$}", serveDashboard)
	s.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
	}
	go func() { defer close(s.done); s.sampler(s.stop) }()
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.Log.Error("api server stopped", "error", err)
		}
	}()
	o.Log.Info("api listening", "addr", ln.Addr().String())
	return s, nil
}

// Addr returns the address served on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving, letting requests in flight finish for up to 2 s.
func (s *Server) Close() error {
	close(s.stop)
	<-s.done
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.http.Shutdown(ctx)
}

// auth admits requests with the bearer token (RFC 6750 §2.1), compared in
// constant time; others get 401 and a log line naming the source.
func (s *Server) auth(h http.Handler) http.Handler {
	want := []byte(s.o.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			s.o.Log.Warn("api request refused: bad or missing token", "src", r.RemoteAddr, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) calls(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.o.Switch.Calls())
}

func (s *Server) call(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	for _, c := range s.o.Switch.Calls() {
		if c.ID == id || c.ACallID == id {
			writeJSON(w, http.StatusOK, c)
			return
		}
	}
	writeError(w, http.StatusNotFound, "no call "+id)
}

func (s *Server) hangup(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !s.o.Switch.Hangup(id) {
		writeError(w, http.StatusNotFound, "no call "+id)
		return
	}
	s.o.Log.Info("api: call hung up", "call_id", id, "src", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) registrations(w http.ResponseWriter, _ *http.Request) {
	regs := s.o.Switch.Registrations()
	if regs == nil {
		regs = []registrar.Binding{} // [] rather than null for clients
	}
	writeJSON(w, http.StatusOK, regs)
}

// Status is the body of GET /api/v1/status.
type Status struct {
	Version        string  `json:"version"`
	UptimeS        float64 `json:"uptime_s"`
	Calls          int     `json:"calls"`
	Registrations  int     `json:"registrations"`
	MediaEndpoints int     `json:"media_endpoints"`
	Processing     int     `json:"media_processing_streams"`
	MediaPorts     int     `json:"media_port_pairs"`
	Draining       bool    `json:"draining"`
	RecordsDropped uint64  `json:"records_dropped"`
	// Trunks is each trunk's health: up, down, or unchecked (no ping_interval).
	Trunks map[string]string `json:"trunks,omitempty"`
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	st := s.o.Switch.Stats()
	writeJSON(w, http.StatusOK, Status{
		Version: s.o.Version, UptimeS: time.Since(s.started).Seconds(),
		Calls: st.Calls, Registrations: st.Registrations, MediaEndpoints: st.MediaEndpoints,
		Processing: st.Processing, MediaPorts: st.MediaPorts, Draining: st.Draining,
		RecordsDropped: st.RecordsDropped, Trunks: st.Trunks,
	})
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	if s.o.Reload == nil {
		writeError(w, http.StatusNotImplemented, "reload is not available")
		return
	}
	if err := s.o.Reload(); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "reload refused; the running configuration is kept: "+err.Error())
		return
	}
	s.o.Log.Info("api: configuration reloaded", "src", r.RemoteAddr)
	writeJSON(w, http.StatusOK, map[string]string{"result": "reloaded"})
}

func (s *Server) drain(w http.ResponseWriter, r *http.Request) {
	if s.o.Drain == nil {
		writeError(w, http.StatusNotImplemented, "drain is not available")
		return
	}
	s.o.Log.Info("api: drain requested", "src", r.RemoteAddr)
	s.o.Drain()
	writeJSON(w, http.StatusAccepted, map[string]string{"result": "draining"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// apiError is the body of every error answer.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

package ops

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/b2bua"
	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/registrar"
	"github.com/switchboard/switchboard/rtcpstats"
)

// fakeSwitch is a Switch with one call.
type fakeSwitch struct {
	hung []string
	obs  func(*cdr.Record)
}

func (f *fakeSwitch) Calls() []b2bua.CallInfo {
	return []b2bua.CallInfo{{ID: "sb-1", ACallID: "abc@host", Dialled: "1001", State: "confirmed"}}
}
func (f *fakeSwitch) Hangup(id string) bool {
	if id != "sb-1" {
		return false
	}
	f.hung = append(f.hung, id)
	return true
}
func (f *fakeSwitch) Record(id string, on bool) (string, error) {
	switch {
	case id != "sb-1":
		return "", b2bua.ErrNoCall
	case !on:
		return "", b2bua.ErrNotRecording
	}
	return "/rec/sb-1.wav", nil
}
func (f *fakeSwitch) Registrations() []registrar.Binding {
	return []registrar.Binding{{User: "1000", Contact: "sip:1000@127.0.0.1:5062"}}
}
func (f *fakeSwitch) Stats() b2bua.Stats                 { return b2bua.Stats{Calls: 1, MediaPorts: 500} }
func (f *fakeSwitch) ObserveRecords(o func(*cdr.Record)) { f.obs = o }

const token = "0123456789abcdef-token"

func start(t *testing.T, o Options) (*Server, *fakeSwitch) {
	t.Helper()
	sw := &fakeSwitch{}
	o.Addr, o.Token, o.Switch = "127.0.0.1:0", token, sw
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, sw
}

func do(t *testing.T, s *Server, method, path, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.Addr()+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestAPIRoutes(t *testing.T) {
	reloadErr := errors.New("routes[0].match: bad pattern")
	drained := 0
	s, sw := start(t, Options{Reload: func() error { return reloadErr }, Drain: func() { drained++ }})
	for _, tc := range []struct {
		method, path, tok string
		code              int
		body              string
	}{
		{"GET", "/api/v1/calls", "", 401, "bearer token"},
		{"GET", "/api/v1/calls", token + "x", 401, "bearer token"},
		{"GET", "/metrics", "", 401, "bearer token"},
		{"GET", "/api/v1/calls", token, 200, `"dialled": "1001"`},
		{"GET", "/api/v1/calls/sb-1", token, 200, `"id": "sb-1"`},
		{"GET", "/api/v1/calls/abc@host", token, 200, `"id": "sb-1"`},
		{"GET", "/api/v1/calls/nope", token, 404, "no call nope"},
		{"DELETE", "/api/v1/calls/nope", token, 404, "no call"},
		{"DELETE", "/api/v1/calls/sb-1", token, 204, ""},
		{"POST", "/api/v1/calls/abc@host/recording", token, 201, `"recording": "/rec/sb-1.wav"`},
		{"POST", "/api/v1/calls/nope/recording", token, 404, "no call nope"},
		{"DELETE", "/api/v1/calls/sb-1/recording", token, 409, "not being recorded"},
		{"POST", "/api/v1/calls/sb-1/recording", "", 401, "bearer token"},
		{"GET", "/api/v1/registrations", token, 200, `"user": "1000"`},
		{"GET", "/api/v1/status", token, 200, `"media_port_pairs": 500`},
		{"POST", "/api/v1/reload", token, 422, "bad pattern"},
		{"POST", "/api/v1/drain", token, 202, "draining"},
		{"GET", "/api/v1/drain", token, 405, ""},
		{"GET", "/metrics", token, 200, "switchboard_calls_active 1"},
	} {
		code, body := do(t, s, tc.method, tc.path, tc.tok)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s %s (token %v): %d %q, want %d containing %q", tc.method, tc.path, tc.tok != "", code, body, tc.code, tc.body)
		}
	}
	if len(sw.hung) != 1 || drained != 1 {
		t.Errorf("hangups %v, drains %d; want [sb-1], 1", sw.hung, drained)
	}
}

func TestMetricsOpenAndObserve(t *testing.T) {
	s, sw := start(t, Options{MetricsOpen: true})
	if code, _ := do(t, s, "GET", "/api/v1/status", ""); code != 401 {
		t.Errorf("status without token with metrics_open: %d, want 401", code)
	}
	start := time.Now()
	sw.obs(&cdr.Record{Disposition: cdr.Answered, Status: 200, Q850Cause: 16, Start: start, Answer: start.Add(1500 * time.Millisecond),
		BillableS: 42, AToBPackets: 2100, BToAPackets: 2090, Transcoded: true,
		Quality: &rtcpstats.CallQuality{Legs: []rtcpstats.LegQuality{
			{Leg: "a", Received: rtcpstats.ReceivedQuality{Packets: 2100, Lost: 12, MOS: 4.1, JitterMeanMs: 3}},
			{Leg: "b", Received: rtcpstats.ReceivedQuality{Packets: 2090, MOS: 4.4, JitterMeanMs: 1}},
		}}})
	sw.obs(&cdr.Record{Disposition: cdr.Busy, Status: 486, Q850Cause: 17, Start: start})
	code, body := do(t, s, "GET", "/metrics", "")
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{
		`switchboard_calls_total{disposition="answered",status="200"} 1`,
		`switchboard_calls_total{disposition="busy",status="486"} 1`,
		`switchboard_call_causes_total{cause="17"} 1`,
		`switchboard_call_answer_seconds_bucket{le="2"} 1`,
		`switchboard_call_answer_seconds_bucket{le="1"} 0`,
		`switchboard_calls_transcoded_total 1`,
		`switchboard_rtp_packets_total{direction="a_to_b"} 2100`,
		`switchboard_rtp_lost_packets_total{leg="a"} 12`,
		`switchboard_call_mos_bucket{leg="a",le="4.2"} 1`,
		`switchboard_call_mos_bucket{leg="a",le="4"} 0`,
		`switchboard_call_mos_count{leg="b"} 1`,
		`switchboard_call_jitter_ms_bucket{leg="a",le="5"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestNewRefusesEmptyToken(t *testing.T) {
	if _, err := New(Options{Addr: "127.0.0.1:0", Switch: &fakeSwitch{}}); err == nil {
		t.Error("an API without a token started")
	}
}

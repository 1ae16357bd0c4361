package b2bua

import (
	"sort"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/journal"
	"github.com/switchboard/switchboard/registrar"
	"github.com/switchboard/switchboard/rtcpstats"
	"github.com/switchboard/switchboard/vqreport"
)

// What the operations interface (package ops) reads of a running server:
// a snapshot of the calls, the registrations and the engine's counters,
// every call's record as it is written, and a way to end a call. Nothing
// here runs on the per-message path except observedRecords.Write, once
// per call.

// CallInfo is one live call as the operations API shows it.
type CallInfo struct {
	ID      string    `json:"id"`
	ACallID string    `json:"a_call_id"`
	BCallID string    `json:"b_call_id,omitempty"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Dialled string    `json:"dialled"`
	Caller  string    `json:"caller"`
	Route   string    `json:"route,omitempty"`
	Trunk   string    `json:"trunk,omitempty"`
	State   string    `json:"state"`
	Start   time.Time `json:"start"`
	Answer  time.Time `json:"answer,omitzero"`
	CodecA  string    `json:"codec_a,omitempty"`
	CodecB  string    `json:"codec_b,omitempty"`
	// Transcoded tells that the legs' codecs differ.
	Transcoded bool `json:"transcoded,omitempty"`
	// Quality is the call's quality record so far (the final one is in
	// its CDR); absent before media flows.
	Quality *rtcpstats.CallQuality `json:"quality,omitempty"`
	// Streams are the call's streams beside audio so far, as its CDR
	// will have them (call_streams.go).
	Streams []cdr.StreamRecord `json:"streams,omitempty"`
}

// Stats are the server's gauges for metrics.
type Stats struct {
	// Calls counts calls in progress (ringing or up).
	Calls int
	// MediaEndpoints counts open media endpoints (two per bridged call).
	MediaEndpoints int
	// Processing counts media streams on the processing path (one per
	// processed direction: transcoding, DTMF interworking, recording).
	Processing int
	// MediaPorts is the size of the RTP port pool in port pairs.
	MediaPorts int
	// Registrations counts current registration bindings.
	Registrations int
	// Draining is set once SIGTERM (Drain) stopped new calls.
	Draining bool
	// RecordsDropped counts records the writer could not keep.
	RecordsDropped uint64
	// RecordsHeld counts records waiting in memory for a full or failing
	// records directory to take them.
	RecordsHeld int
	// QualityReports counts RFC 6035 reports accepted by collectors,
	// failed (refused or unanswered) and dropped on a full queue.
	QualityReportsSent, QualityReportsFailed, QualityReportsDropped uint64
	// Overload is admission control's counters (overload.go).
	Overload OverloadStats
	// Trunks is each trunk's health: "up", "down", or "unchecked"
	// without ping_interval (trunk_health.go).
	Trunks map[string]string
}

// Calls returns a snapshot of the calls in progress, oldest first.
func (s *Server) Calls() []CallInfo {
	calls := s.callList()
	out := make([]CallInfo, 0, len(calls))
	for _, c := range calls {
		if ci, ok := c.info(); ok {
			out = append(out, ci)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// info snapshots the call under its lock; false once it has ended.
func (c *Call) info() (CallInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.over || c.state == stateEnded {
		return CallInfo{}, false
	}
	r := &c.rec
	ci := CallInfo{
		ID: c.id, ACallID: r.ACallID, BCallID: r.BCallID,
		From: r.From, To: r.To, Dialled: r.Dialled, Caller: r.Caller,
		Route: r.Route, Trunk: r.Trunk, State: c.state.String(),
		Start: r.Start, Answer: r.Answer, CodecA: r.CodecA, CodecB: r.CodecB,
		Transcoded: r.Transcoded, Quality: c.quality(),
		Streams: c.liveStreams(),
	}
	return ci, true
}

// Hangup ends the call with Switchboard's id (CallInfo.ID): BYE to the
// legs that are up, CANCEL or 480 to the ones ringing, and one record with
// hangup_side switchboard and reason "api". False if no such call runs.
func (s *Server) Hangup(id string) bool {
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	return c != nil && c.post(evHangup{reason: "api"})
}

// Registrations returns the current registration bindings.
func (s *Server) Registrations() []registrar.Binding { return s.reg.Bindings() }

// Stats returns the server's gauges.
func (s *Server) Stats() Stats {
	sent, failed, dropped := s.QualityReportCounts()
	return Stats{
		QualityReportsSent: sent, QualityReportsFailed: failed, QualityReportsDropped: dropped,
		Calls:          s.activeCalls(),
		MediaEndpoints: s.media.Active(),
		Processing:     s.media.Processing(),
		MediaPorts:     s.media.Pairs(),
		Registrations:  len(s.reg.Bindings()),
		Draining:       s.draining.Load(),
		RecordsDropped: s.cdr.Dropped(),
		RecordsHeld:    s.cdr.Held(),
		Overload:       s.overload.stats(),
		Trunks:         s.trunkStates(),
	}
}

// ObserveRecords hands every call's record to f as it is written (after
// the writer took it). f runs on the call's goroutine and must not block.
func (s *Server) ObserveRecords(f func(*cdr.Record)) { s.records.obs.Store(&f) }

// observedRecords is the calls' record sink: the record writer, the crash
// journal, and the observer of ObserveRecords if one is set.
type observedRecords struct {
	w   *cdr.Writer
	j   *journal.Journal
	obs atomic.Pointer[func(*cdr.Record)]
	// vq sends the RFC 6035 reports to the collector that collector
	// names for a record (b2bua/vq.go).
	vq        *vqreport.Publisher
	collector func(*cdr.Record) *sip.Uri
}

// Up implements recordSink: an answered call is journalled.
func (o *observedRecords) Up(rec *cdr.Record) { o.j.Up(rec) }

// Write implements recordSink.
func (o *observedRecords) Write(rec cdr.Record) {
	o.w.Write(rec)
	o.j.Ended(rec.CallID)
	if f := o.obs.Load(); f != nil {
		(*f)(&rec)
	}
	if rec.Quality != nil && o.vq != nil {
		if u := o.collector(&rec); u != nil {
			o.vq.Observe(*u, &rec)
		}
	}
}

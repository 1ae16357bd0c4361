package b2bua

import (
	"errors"
	"time"

	"github.com/switchboard/switchboard/media"
)

// On-demand recording: an operator (the HTTP API, POST/DELETE
// /api/v1/calls/{id}/recording) starts and stops the recording of a call
// that is up, whatever its policies say. The request runs as an event of
// the call, so it never races the call's own answer, hold or end.
//
//	Server.Record(id, on) ─► evRecord ─► Call.onRecord
//	  on:  bridge.SetTaps(true) (relayed directions decode a copy)
//	       → startRecording (recording.go: file, sidecar, taps)
//	  off: remove the taps → stopRecording (the file is finished in the
//	       background, the CDR says complete) → SetTaps(false)
//
// One recording per call: the CDR names one file, so a call whose
// recording was stopped is not recorded again.

// Errors of Server.Record, for the API to map to its status codes.
var (
	ErrNoCall          = errors.New("no such call")
	ErrCallNotUp       = errors.New("the call is not answered")
	ErrRecording       = errors.New("the call is already being recorded")
	ErrNotRecording    = errors.New("the call is not being recorded")
	ErrRecordedOnce    = errors.New("the call's recording was stopped; a call has one recording")
	ErrRecordingFailed = errors.New("the recording could not be started (see the log)")
	ErrService         = errors.New("calls answered by Switchboard itself are not recorded")
)

// evRecord starts (on) or stops an operator's recording; done gets the
// outcome.
type evRecord struct {
	on   bool
	done chan recordResult
}

// recordResult is evRecord's outcome: the recording's file, or why not.
type recordResult struct {
	path string
	err  error
}

// tapToggler is what on-demand recording needs of a bridge beyond taps.
type tapToggler interface {
	SetTaps(on bool)
	RemoveTap(from *media.Endpoint, t media.Tap)
}

// Record starts (on) or stops the recording of the call with
// Switchboard's id (CallInfo.ID) and returns the recording's file.
func (s *Server) Record(id string, on bool) (string, error) {
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	if c == nil {
		return "", ErrNoCall
	}
	done := make(chan recordResult, 1)
	if !c.post(evRecord{on: on, done: done}) {
		return "", ErrNoCall
	}
	select {
	case r := <-done:
		return r.path, r.err
	case <-time.After(5 * time.Second):
		return "", errors.New("the call did not answer the request in time")
	}
}

// onRecord runs evRecord on the call's goroutine.
func (c *Call) onRecord(e evRecord) {
	err := c.toggleRecording(e.on)
	e.done <- recordResult{path: c.rec.Recording, err: err}
}

func (c *Call) toggleRecording(on bool) error {
	if c.svc != nil || c.target.Kind == TargetService {
		return ErrService
	}
	if !c.state.up() || c.bridge == nil || c.a == nil || c.b == nil {
		return ErrCallNotUp
	}
	bt, ok := c.bridge.(tapToggler)
	if !ok {
		return ErrCallNotUp
	}
	if !on {
		r := c.recording
		if r == nil {
			return ErrNotRecording
		}
		bt.RemoveTap(c.a.Endpoint, r.Left())
		bt.RemoveTap(c.b.Endpoint, r.Right())
		c.stopRecording()
		bt.SetTaps(false)
		c.record = false
		c.log.Info("recording stopped by the operator", "leg", "both", "file", c.rec.Recording)
		return nil
	}
	switch {
	case c.recording != nil:
		return ErrRecording
	case c.rec.Recording != "":
		return ErrRecordedOnce
	}
	c.record = true
	bt.SetTaps(true)
	c.startRecording()
	if c.recording == nil {
		c.record = false
		bt.SetTaps(false)
		return ErrRecordingFailed
	}
	c.log.Info("recording started by the operator", "leg", "both")
	return nil
}

package ops

import (
	"errors"
	"net/http"

	"github.com/switchboard/switchboard/b2bua"
)

// RecordingState is the body of the recording endpoints' answers.
type RecordingState struct {
	CallID    string `json:"call_id"`
	Recording string `json:"recording"`
	Active    bool   `json:"active"`
}

// startRecording serves POST /api/v1/calls/{id}/recording: 201 with the
// file when the recording started.
func (s *Server) startRecording(w http.ResponseWriter, r *http.Request) {
	s.toggleRecording(w, r, true)
}

// stopRecording serves DELETE /api/v1/calls/{id}/recording: 200 with the
// file, which is finished in the background.
func (s *Server) stopRecording(w http.ResponseWriter, r *http.Request) {
	s.toggleRecording(w, r, false)
}

func (s *Server) toggleRecording(w http.ResponseWriter, r *http.Request, on bool) {
	id := s.callID(r.PathValue("id"))
	path, err := s.o.Switch.Record(id, on)
	switch {
	case errors.Is(err, b2bua.ErrNoCall):
		writeError(w, http.StatusNotFound, "no call "+r.PathValue("id"))
		return
	case errors.Is(err, b2bua.ErrCallNotUp), errors.Is(err, b2bua.ErrRecording),
		errors.Is(err, b2bua.ErrNotRecording), errors.Is(err, b2bua.ErrRecordedOnce),
		errors.Is(err, b2bua.ErrService):
		writeError(w, http.StatusConflict, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	verb, code := "stopped", http.StatusOK
	if on {
		verb, code = "started", http.StatusCreated
	}
	s.o.Log.Info("api: recording "+verb, "call_id", id, "file", path, "src", r.RemoteAddr)
	writeJSON(w, code, RecordingState{CallID: id, Recording: path, Active: on})
}

// callID maps a caller's SIP Call-ID to Switchboard's call id, as GET
// /api/v1/calls/{id} accepts either.
func (s *Server) callID(id string) string {
	for _, c := range s.o.Switch.Calls() {
		if c.ACallID == id {
			return c.ID
		}
	}
	return id
}

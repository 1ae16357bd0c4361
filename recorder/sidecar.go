package recorder

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/google/renameio/v2"
)

// Status values of a recording's sidecar.
const (
	// StatusRecording: the recording is in progress (or the process died;
	// Repair turns it into StatusCut).
	StatusRecording = "recording"
	// StatusComplete: Close finished the recording with nothing lost to
	// a disk error.
	StatusComplete = "complete"
	// StatusCut: the recording stopped early (disk error, or unfinished
	// at a crash); CutReason says why.
	StatusCut = "cut"
)

// Party is one side of a recorded call.
type Party struct {
	// Name is the party's address or user (e.g. the From/To URI).
	Name string `json:"name"`
	// Codec is the codec the party's leg used (e.g. "PCMU").
	Codec string `json:"codec,omitempty"`
}

// Metadata is the JSON sidecar written beside a recording as <name>.json.
type Metadata struct {
	// CallID is the call's SIP Call-ID (the caller's leg).
	CallID string `json:"call_id"`
	// CDRID is the id of the call's CDR.
	CDRID string `json:"cdr_id,omitempty"`
	// Caller is on the left channel, Callee on the right.
	Caller Party `json:"caller"`
	Callee Party `json:"callee"`
	// Channels says which party is on which channel ({"mono": "room"}
	// for a conference room's mix).
	Channels map[string]string `json:"channels"`
	// Room is the conference room a mono recording holds the mix of.
	Room string `json:"room,omitempty"`
	// Participants are a room's participants, in the order they joined.
	Participants []Party `json:"participants,omitempty"`
	// File is the recording's file name (no directory).
	File string `json:"file"`
	// Format is "wav" or "ogg".
	Format string `json:"format"`
	// SampleRate is the recording's rate in Hz.
	SampleRate int `json:"sample_rate"`
	// Start and End bound the recording (End zero while recording).
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
	// Seconds is the audio written, in seconds.
	Seconds float64 `json:"seconds"`
	// DroppedFrames counts frames lost to a full queue or after a cut.
	DroppedFrames uint64 `json:"dropped_frames"`
	// Status is StatusRecording, StatusComplete or StatusCut.
	Status string `json:"status"`
	// CutReason says why a cut recording stopped.
	CutReason string `json:"cut_reason,omitempty"`
}

// sidecarPath returns the sidecar's path for a recording's path.
func sidecarPath(path string) string {
	return strings.TrimSuffix(path, ".wav") + ".json"
}

// writeSidecar replaces the sidecar atomically, mode 0600.
func writeSidecar(path string, m Metadata) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return renameio.WriteFile(path, append(b, '\n'), 0o600)
}

// ReadSidecar reads a recording's sidecar given the recording's path.
func ReadSidecar(recording string) (Metadata, error) {
	var m Metadata
	b, err := os.ReadFile(sidecarPath(recording))
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

// repairSidecar marks an unfinished sidecar cut, ending at end.
func repairSidecar(path string, end time.Time) (bool, error) {
	m, err := ReadSidecar(strings.TrimSuffix(path, ".json") + ".wav")
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil || m.Status != StatusRecording {
		return false, err
	}
	m.Status, m.CutReason, m.End = StatusCut, "unfinished at a crash; repaired at start", end.UTC()
	return true, writeSidecar(path, m)
}

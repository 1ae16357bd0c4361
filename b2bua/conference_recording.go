package b2bua

import (
	"time"

	"github.com/switchboard/switchboard/recorder"
)

// Conference recording: a room is recorded as its mix, one mono file,
// when a participant joins whose call a policy records (the conference
// route's recording: all, or the caller's user or trunk policy). The
// recording starts with that join and ends when the room closes; its
// sidecar names the room and lists every participant that joined while it
// ran, and each of their CDRs names the file.
//
//	joinConference ─► roomRecord{open} ─► conferences.join (under its mu):
//	   room not recorded yet: open (recorder.New, Channels 1)
//	                          → Room.SetTap(rec.Left()) (the mix, per Tick)
//	   room recorded: rec.AddParticipant(the caller)
//	last leave ─► Room.SetTap(nil) → rec.Close (in its own goroutine)

// roomRecord is a joining participant's part in its room's recording:
// open (nil: its call is not recorded) starts the room's recording if it
// has none; join fills in rec, the room's recording, if the room has one.
type roomRecord struct {
	open  func(room string) (*recorder.Recorder, error)
	party recorder.Party
	rec   *recorder.Recorder
}

// roomRecorder returns the function that opens a recording of the call's
// room, or nil when no policy records the call.
func (c *Call) roomRecorder() func(room string) (*recorder.Recorder, error) {
	pol := c.host.currentPolicy()
	if !c.wantRecording(pol) {
		return nil
	}
	s := pol.cfg.Services
	log := c.log
	return func(room string) (*recorder.Recorder, error) {
		rec, _, err := openRecording(s, time.Now(), "room-"+room, recorder.Config{Channels: 1, Meta: recorder.Metadata{Room: room}, Logger: log})
		return rec, err
	}
}

// recordRoom attaches the room's recording at a join (under
// conferences.mu), starting it if the joiner asks and there is none.
func (r *confRoom) recordRoom(name string, rr *roomRecord, log func(msg string, args ...any)) {
	if rr == nil {
		return
	}
	if r.rec == nil && rr.open != nil {
		rec, err := rr.open(name)
		if err != nil {
			log("room recording not started", "error", err)
			return
		}
		r.rec = rec
		r.room.SetTap(rec.Left())
	}
	if r.rec != nil {
		r.rec.AddParticipant(rr.party)
		rr.rec = r.rec
	}
}

// stopRoomRecording ends the room's recording as the room closes.
func (r *confRoom) stopRoomRecording(log func(msg string, args ...any)) {
	rec := r.rec
	if rec == nil {
		return
	}
	r.rec = nil
	r.room.SetTap(nil)
	go func() {
		if err := rec.Close(); err != nil {
			log("room recording cut", "error", err)
		}
	}()
}

// roomRecordingState names the room's recording in the participant's CDR.
func (c *Call) roomRecordingState(rec *recorder.Recorder) {
	if rec == nil {
		return
	}
	c.rec.Recording = rec.Path()
	c.rec.RecordingState = recordingComplete
	if rec.Stats().Cut {
		c.rec.RecordingState = recordingCut
	}
}

package b2bua

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/media"
	"github.com/switchboard/switchboard/recorder"
)

// Call recording: a call whose route, caller or callee says recording:
// all is recorded from its answer to its end as a stereo WAV (caller
// left, callee right) with a JSON sidecar, in services.recordings.
//
//	route + users + trunks ─► wantRecording (at routing) ─► BridgeConfig.Taps
//	answered ─► recorder.New ─► Bridge.AddTap(A, Left) + AddTap(B, Right)
//	             (a processed direction feeds its taps; a relayed one is
//	              decoded from a copy on the playout clock: media/monitor.go)
//	end ─► Bridge.Stop ─► CDR recording + recording_state ─► Recorder.Close
//	       (in its own goroutine: the call never waits for the disk)
//
// A full queue drops frames (counted in the sidecar), a disk error cuts
// the file (sidecar and CDR say "cut"); the call goes on either way.

// Recording states in the CDR.
const (
	recordingComplete = recorder.StatusComplete
	recordingCut      = recorder.StatusCut
	recordingFailed   = "failed"
)

// wantRecording reports whether any policy of the call asks for it: the
// route's, the caller's (user or trunk) and the callee's.
func (c *Call) wantRecording(pol *policy) bool {
	all := func(p config.CallPolicy) bool { return p.Recording == config.RecordAll }
	return c.policies(pol, all)
}

// policies reports whether pred holds for the route's policy, the
// caller's (a user or a trunk) or the callee's.
func (c *Call) policies(pol *policy, pred func(config.CallPolicy) bool) bool {
	if pred(c.target.Policy) {
		return true
	}
	if u, ok := pol.users[c.caller]; ok && pred(u.Policy) {
		return true
	}
	if c.fromTrunk != nil && pred(c.fromTrunk.Policy) {
		return true
	}
	switch c.target.Kind {
	case TargetUser:
		u, ok := pol.users[c.target.Number]
		return ok && pred(u.Policy)
	case TargetTrunk:
		return c.target.Trunk != nil && pred(c.target.Trunk.Policy)
	}
	return false
}

// openRecording opens a recording named name (a call's CDR id, or
// "room-" and a room) started at in the services' recordings directory,
// at its rate and format, with cfg's other settings; it returns the
// file's path also when it fails.
func openRecording(s config.Services, at time.Time, name string, cfg recorder.Config) (*recorder.Recorder, string, error) {
	cfg.Path = filepath.Join(s.Recordings, fmt.Sprintf("%s-%s.%s", at.UTC().Format("20060102T150405Z"), safeName(name), s.RecordingFormat))
	cfg.Rate = s.RecordingRate
	if err := os.MkdirAll(s.Recordings, 0o700); err != nil {
		return nil, cfg.Path, err
	}
	r, err := recorder.New(cfg)
	return r, cfg.Path, err
}

// startRecording opens the call's recording once both legs are known and
// attaches it to the bridge: the caller's audio left, the callee's right.
func (c *Call) startRecording() {
	if !c.record || c.recording != nil || c.a == nil || c.b == nil || c.bridge == nil {
		return
	}
	pol := c.host.currentPolicy()
	r, path, err := openRecording(pol.cfg.Services, c.rec.Start, c.id, recorder.Config{
		Meta: recorder.Metadata{
			CallID: c.rec.ACallID,
			CDRID:  c.id,
			Caller: recorder.Party{Name: c.rec.From, Codec: codecName(c.a.Codecs)},
			Callee: recorder.Party{Name: c.rec.To, Codec: codecName(c.b.Codecs)},
		},
		Logger: c.log,
	})
	c.rec.Recording = path
	if err != nil {
		c.log.Error("recording not started", "leg", "both", "file", path, "error", err)
		c.rec.RecordingState = recordingFailed
		return
	}
	c.recording = r
	c.bridgeTaps().AddTap(c.a.Endpoint, r.Left())
	c.bridgeTaps().AddTap(c.b.Endpoint, r.Right())
	c.log.Info("recording", "leg", "both", "file", path)
}

// stopRecording ends the recording as the call ends (after the bridge
// stopped feeding it): the CDR gets its state, and the file is finished
// in the background.
func (c *Call) stopRecording() {
	r := c.recording
	if r == nil {
		return
	}
	c.recording = nil
	c.rec.RecordingState = recordingComplete
	if r.Stats().Cut {
		c.rec.RecordingState = recordingCut
	}
	log := c.log
	go func() {
		if err := r.Close(); err != nil {
			log.Error("recording cut", "leg", "both", "error", err)
		}
	}()
}

// tapper is what recording needs of a bridge: taps per direction.
type tapper interface {
	AddTap(from *media.Endpoint, t media.Tap)
}

// bridgeTaps returns the call's bridge as a tapper.
func (c *Call) bridgeTaps() tapper {
	if t, ok := c.bridge.(tapper); ok {
		return t
	}
	return noTaps{}
}

type noTaps struct{}

func (noTaps) AddTap(*media.Endpoint, media.Tap) {}

// safeName keeps a call id usable as a file name.
func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, id)
}

// RepairRecordings repairs, at start, the recordings in dir that a
// killed process left unfinished (recorder.Repair: header sizes from the
// file's length, sidecar marked cut). A missing directory is no error.
func RepairRecordings(dir string, log *slog.Logger) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.wav"))
	if err != nil {
		return err
	}
	oggs, _ := filepath.Glob(filepath.Join(dir, "*.ogg"))
	files = append(files, oggs...)
	for _, f := range files {
		changed, err := recorder.Repair(f)
		switch {
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			log.Warn("recording not repaired", "file", f, "error", err)
		case changed:
			log.Info("recording repaired after an unclean stop", "file", f)
		}
	}
	return nil
}

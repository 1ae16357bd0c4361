package codecs

// Voice activity detection for DTX and comfort noise.
//
// Hand-written: the candidates (WebRTC's GMM VAD through cgo wrappers such
// as go-webrtcvad, speexdsp's preprocessor VAD) are either unmaintained or
// need the full denoiser running; deciding "send speech or send a SID" only
// needs a frame level against an adaptive noise floor. The detector is:
//
//   - level: frame energy in dBov (0 dBov = full-scale square wave, as for
//     RFC 3389 levels);
//   - noise floor: minimum statistics, the lowest level seen over a
//     sliding window (FloorWindow, kept as 8 sub-window minima), starting
//     at MinLevelDBov. The level tracked is the frame power smoothed over
//     about 80 ms, so that the minimum of a fluctuating noise sits near its
//     mean rather than in its troughs. Speech has pauses and valleys within
//     any 1-2 s, so the minimum follows the background, not the talker. A
//     stationary sound lasting longer than the window (a steady tone)
//     becomes the background, as with any floor tracker;
//   - decision, with hysteresis: a frame starts speech when its level
//     exceeds MinLevelDBov and is at least ThresholdDB above the floor; the
//     frame after a speech frame continues it at half that margin if its
//     zero-crossing rate is that of voiced speech (crossings below 1.2 kHz;
//     broadband noise crosses at about a quarter of the sample rate). The
//     zero-crossing test keeps quiet voiced syllable tails, and, applying
//     only to continuations, never lets low-frequency noise start speech;
//   - hangover: after the last speech frame the result stays true for
//     Hangover, so word endings and short pauses are not clipped.

import (
	"fmt"
	"math"
	"time"
)

// VAD defaults.
const (
	vadDefaultThreshold   = 9.0   // dB above the noise floor
	vadDefaultMinLevel    = -55.0 // dBov
	vadDefaultHangover    = 200 * time.Millisecond
	vadDefaultFloorWindow = 1600 * time.Millisecond
	vadFloorSubwindows    = 8
	vadVoicedZCHz         = 1200.0 // zero-crossing frequency below which a frame looks voiced
	vadSilenceDBov        = -100.0 // level reported for digital silence
	vadSmoothing          = 80 * time.Millisecond
)

// VADConfig configures a VAD. Zero fields take the defaults.
type VADConfig struct {
	// SampleRate of the PCM in Hz; required.
	SampleRate int
	// ThresholdDB is how far above the noise floor a frame must be to
	// count as speech (default 9 dB).
	ThresholdDB float64
	// MinLevelDBov is the level below which a frame is never speech
	// (default -55 dBov).
	MinLevelDBov float64
	// Hangover is how long the decision stays true after the last speech
	// frame (default 200 ms).
	Hangover time.Duration
	// FloorWindow is the span over which the noise floor is the minimum
	// level (default 1.6 s).
	FloorWindow time.Duration
}

// VAD decides, frame by frame, whether PCM carries speech. It is not safe
// for concurrent use and does not allocate.
type VAD struct {
	cfg          VADConfig
	hangSamples  int
	subSamples   int // samples per floor sub-window
	hangLeft     int
	subFill      int
	subMin       float64
	mins         [vadFloorSubwindows]float64
	minPos       int
	level, floor float64
	zcHz         float64
	smoothed     float64 // smoothed frame power, linear (full scale = 1)
	speech       bool    // last frame was speech by level (not by hangover)
}

// NewVAD returns a detector configured by cfg.
func NewVAD(cfg VADConfig) (*VAD, error) {
	if cfg.SampleRate <= 0 {
		return nil, fmt.Errorf("codecs: VAD sample rate %d must be positive", cfg.SampleRate)
	}
	if cfg.ThresholdDB == 0 {
		cfg.ThresholdDB = vadDefaultThreshold
	}
	if cfg.MinLevelDBov == 0 {
		cfg.MinLevelDBov = vadDefaultMinLevel
	}
	if cfg.Hangover == 0 {
		cfg.Hangover = vadDefaultHangover
	}
	if cfg.FloorWindow == 0 {
		cfg.FloorWindow = vadDefaultFloorWindow
	}
	if cfg.ThresholdDB < 0 || cfg.Hangover < 0 || cfg.FloorWindow < 0 {
		return nil, fmt.Errorf("codecs: VAD threshold, hangover and floor window must not be negative")
	}
	v := &VAD{
		cfg:         cfg,
		hangSamples: int(cfg.Hangover.Seconds() * float64(cfg.SampleRate)),
		subSamples:  max(1, int(cfg.FloorWindow.Seconds()*float64(cfg.SampleRate))/vadFloorSubwindows),
	}
	v.Reset()
	return v, nil
}

// Reset returns the detector to its initial state: no speech, noise floor
// at MinLevelDBov.
func (v *VAD) Reset() {
	v.hangLeft, v.subFill, v.minPos = 0, 0, 0
	for i := range v.mins {
		v.mins[i] = v.cfg.MinLevelDBov
	}
	v.subMin = math.Inf(1)
	v.floor = v.cfg.MinLevelDBov
	v.level = vadSilenceDBov
	v.zcHz = 0
	v.smoothed = -1 // unset
	v.speech = false
}

// Process analyses one frame and reports whether it is speech (or within
// the hangover after speech).
func (v *VAD) Process(pcm []int16) bool {
	if len(pcm) == 0 {
		return v.hangLeft > 0
	}
	var sum float64
	crossings := 0
	prev := pcm[0] >= 0
	for _, s := range pcm {
		sum += float64(s) * float64(s)
		if pos := s >= 0; pos != prev {
			crossings++
			prev = pos
		}
	}
	power := sum / float64(len(pcm)) / (cnFullScale * cnFullScale)
	v.level = dBovOf(power)
	// Crossings per second / 2 is the frequency of a sinusoid with this
	// zero-crossing rate.
	v.zcHz = float64(crossings) * float64(v.cfg.SampleRate) / float64(2*len(pcm))

	if v.smoothed < 0 {
		v.smoothed = power
	} else {
		a := math.Exp(-float64(len(pcm)) / (vadSmoothing.Seconds() * float64(v.cfg.SampleRate)))
		v.smoothed = a*v.smoothed + (1-a)*power
	}
	v.updateFloor(len(pcm), dBovOf(v.smoothed))

	margin := v.level - v.floor
	v.speech = v.level > v.cfg.MinLevelDBov &&
		(margin >= v.cfg.ThresholdDB || (v.speech && margin >= v.cfg.ThresholdDB/2 && v.zcHz < vadVoicedZCHz))
	if v.speech {
		v.hangLeft = v.hangSamples
		return true
	}
	if v.hangLeft > 0 {
		v.hangLeft -= len(pcm)
		return true
	}
	return false
}

// dBovOf converts a power relative to full scale to dBov, -100 at most
// for silence.
func dBovOf(power float64) float64 {
	if power <= 0 {
		return vadSilenceDBov
	}
	return max(vadSilenceDBov, 10*math.Log10(power))
}

// updateFloor feeds a smoothed level to the minimum-statistics tracker.
func (v *VAD) updateFloor(n int, level float64) {
	v.subMin = min(v.subMin, level)
	v.subFill += n
	if v.subFill >= v.subSamples {
		v.mins[v.minPos] = v.subMin
		v.minPos = (v.minPos + 1) % len(v.mins)
		v.subMin = math.Inf(1)
		v.subFill = 0
	}
	f := v.subMin
	for _, m := range v.mins {
		f = min(f, m)
	}
	v.floor = f
}

// Level returns the level of the last frame in dBov (-100 for silence).
func (v *VAD) Level() float64 { return v.level }

// NoiseFloor returns the current noise floor estimate in dBov.
func (v *VAD) NoiseFloor() float64 { return v.floor }

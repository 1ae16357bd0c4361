package recorder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WAV (RIFF WAVE, 16-bit PCM) header handling, hand-written: a 44-byte
// header needs no library, and Repair must work on files no reader would
// accept.

const wavHeaderSize = 44

// wavHeader returns the canonical 44-byte header for dataBytes of 16-bit
// PCM with the given rate and channel count.
func wavHeader(rate, channels int, dataBytes uint32) []byte {
	h := make([]byte, wavHeaderSize)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+dataBytes)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*channels*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataBytes)
	return h
}

// Audio is a decoded WAV file.
type Audio struct {
	// Rate is the sample rate in Hz.
	Rate int
	// Channels is the channel count.
	Channels int
	// Samples holds the 16-bit samples, interleaved.
	Samples []int16
}

// Channel returns channel c's samples (0 = left).
func (a Audio) Channel(c int) []int16 {
	out := make([]int16, 0, len(a.Samples)/a.Channels)
	for i := c; i < len(a.Samples); i += a.Channels {
		out = append(out, a.Samples[i])
	}
	return out
}

// ErrNotWAV is returned for a file that is not 16-bit PCM WAV.
var ErrNotWAV = errors.New("recorder: not a 16-bit PCM WAV file")

// ReadWAV reads a 16-bit PCM WAV file, trusting its data chunk size.
func ReadWAV(path string) (Audio, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Audio{}, err
	}
	if len(b) < wavHeaderSize || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return Audio{}, ErrNotWAV
	}
	var a Audio
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		switch id {
		case "fmt ":
			if size < 16 || len(body) < 16 || binary.LittleEndian.Uint16(body) != 1 || binary.LittleEndian.Uint16(body[14:]) != 16 {
				return Audio{}, ErrNotWAV
			}
			a.Channels = int(binary.LittleEndian.Uint16(body[2:]))
			a.Rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			if a.Channels == 0 {
				return Audio{}, ErrNotWAV
			}
			if size > len(body) {
				return Audio{}, fmt.Errorf("recorder: %s: data chunk says %d bytes, file holds %d: %w", path, size, len(body), io.ErrUnexpectedEOF)
			}
			a.Samples = make([]int16, size/2)
			for i := range a.Samples {
				a.Samples[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return a, nil
		}
		off += 8 + size + size&1
	}
	return Audio{}, ErrNotWAV
}

// Repair fixes the header of a WAV file this package left unfinished (the
// process was killed): the RIFF and data sizes are set from the file's
// length, a trailing partial sample frame is cut, and the sidecar (if it
// still says "recording") is marked cut. An Ogg/Opus file needs only its
// sidecar marked. It reports whether anything
// changed. Call it at start on every file in the recordings directory.
func Repair(path string) (bool, error) {
	if filepath.Ext(path) == ".ogg" {
		// Ogg pages stand alone: a partial last page is skipped by any
		// reader, so only the sidecar needs marking.
		st, err := os.Stat(path)
		if err != nil {
			return false, err
		}
		return repairSidecar(sidecarPath(path), st.ModTime())
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := make([]byte, wavHeaderSize)
	if _, err := io.ReadFull(f, h); err != nil {
		return false, fmt.Errorf("recorder: repair %s: %w", path, ErrNotWAV)
	}
	if string(h[0:4]) != "RIFF" || string(h[8:16]) != "WAVEfmt " || string(h[36:40]) != "data" {
		return false, fmt.Errorf("recorder: repair %s: %w", path, ErrNotWAV)
	}
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	align := int64(binary.LittleEndian.Uint16(h[32:]))
	if align == 0 {
		return false, fmt.Errorf("recorder: repair %s: %w", path, ErrNotWAV)
	}
	data := (st.Size() - wavHeaderSize) / align * align
	changed := false
	if data+wavHeaderSize != st.Size() {
		if err := f.Truncate(data + wavHeaderSize); err != nil {
			return false, err
		}
		changed = true
	}
	if int64(binary.LittleEndian.Uint32(h[40:])) != data || int64(binary.LittleEndian.Uint32(h[4:])) != 36+data {
		fixed := wavHeader(int(binary.LittleEndian.Uint32(h[24:])), int(binary.LittleEndian.Uint16(h[22:])), uint32(data))
		if _, err := f.WriteAt(fixed, 0); err != nil {
			return false, err
		}
		changed = true
	}
	side, err := repairSidecar(sidecarPath(path), st.ModTime())
	return changed || side, err
}

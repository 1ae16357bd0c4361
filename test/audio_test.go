package test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

// writeTone writes a 16-bit mono WAV with a sine of freq Hz.
func writeTone(path string, rate, freq int, seconds float64, amp float64) error {
	return writeToneChannels(path, rate, 1, freq, seconds, amp)
}

// writeToneChannels writes a 16-bit WAV of channels identical channels
// with a sine of freq Hz.
func writeToneChannels(path string, rate, channels, freq int, seconds float64, amp float64) error {
	n := int(float64(rate) * seconds)
	frame := 2 * channels
	data := make([]byte, 44+frame*n)
	copy(data[0:], "RIFF")
	binary.LittleEndian.PutUint32(data[4:], uint32(36+frame*n))
	copy(data[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(data[16:], 16)
	binary.LittleEndian.PutUint16(data[20:], 1)
	binary.LittleEndian.PutUint16(data[22:], uint16(channels))
	binary.LittleEndian.PutUint32(data[24:], uint32(rate))
	binary.LittleEndian.PutUint32(data[28:], uint32(rate*frame))
	binary.LittleEndian.PutUint16(data[32:], uint16(frame))
	binary.LittleEndian.PutUint16(data[34:], 16)
	copy(data[36:], "data")
	binary.LittleEndian.PutUint32(data[40:], uint32(frame*n))
	for i := 0; i < n; i++ {
		v := uint16(int16(amp * 32767 * math.Sin(2*math.Pi*float64(freq)*float64(i)/float64(rate))))
		for c := range channels {
			binary.LittleEndian.PutUint16(data[44+frame*i+2*c:], v)
		}
	}
	return os.WriteFile(path, data, 0o644)
}

// readWAV reads a PCM 16-bit WAV (any channel count; the first channel is
// returned) and its sample rate.
func readWAV(path string) ([]float64, int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a WAV file")
	}
	var rate, channels, bits int
	off := 12
	for off+8 <= len(data) {
		id := string(data[off : off+4])
		size := int(binary.LittleEndian.Uint32(data[off+4:]))
		body := data[off+8:]
		if size > len(body) {
			size = len(body)
		}
		switch id {
		case "fmt ":
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			if bits != 16 || channels == 0 {
				return nil, 0, fmt.Errorf("unsupported WAV: %d bits, %d channels", bits, channels)
			}
			frame := 2 * channels
			out := make([]float64, size/frame)
			for i := range out {
				out[i] = float64(int16(binary.LittleEndian.Uint16(body[i*frame:])))
			}
			return out, rate, nil
		}
		off += 8 + size + size%2
	}
	return nil, 0, errors.New("no data chunk")
}

// goertzelPower is the power of one frequency in x (Goertzel algorithm),
// normalised by length.
func goertzelPower(x []float64, rate int, freq float64) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s0 := v + k*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	return p / float64(len(x)) / float64(len(x))
}

// rms is the root-mean-square level of x.
func rms(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	if len(x) == 0 {
		return 0
	}
	return math.Sqrt(s / float64(len(x)))
}

// dominant returns which candidate frequency holds the most power in x, and
// its share of the candidates' total power.
func dominant(x []float64, rate int, candidates ...float64) (float64, float64) {
	var best, total, bestP float64
	for _, f := range candidates {
		p := goertzelPower(x, rate, f)
		total += p
		if p > bestP {
			best, bestP = f, p
		}
	}
	if total == 0 {
		return 0, 0
	}
	return best, bestP / total
}

// loudest returns the samples of x's loudest window of n samples (skips
// silence before the call was answered).
func activePart(x []float64, threshold float64) []float64 {
	start, end := -1, -1
	for i, v := range x {
		if math.Abs(v) > threshold {
			if start < 0 {
				start = i
			}
			end = i
		}
	}
	if start < 0 {
		return nil
	}
	return x[start : end+1]
}

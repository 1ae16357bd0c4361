package jitter

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestZZDebug(t *testing.T) {
	want := os.Getenv("JBDEBUG")
	if want == "" {
		t.Skip()
	}
	f, _ := os.Open(jbtestPath)
	defer f.Close()
	ss, _ := parseJbtest(bufio.NewScanner(f))
	for _, s := range ss {
		if !strings.Contains(s.title, want) {
			continue
		}
		frames := func(n int) time.Duration { return time.Duration(n) * tick }
		q, _ := strconv.ParseFloat(os.Getenv("JBQ"), 64)
		b := New(Config{InitialDelay: frames(s.init), MinDelay: frames(s.min), MaxDelay: frames(s.max), MaxPackets: 50, Quantile: q})
		seq := uint16(1)
		k := 0
		var line strings.Builder
		for _, c := range s.data {
			now := epoch.Add(frames(k))
			switch c {
			case 'P':
				v := b.Push(Header{SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 1}, []byte{0}, now)
				if v != Queued {
					fmt.Fprintf(&line, " P%d:%v", seq, v)
				} else {
					fmt.Fprintf(&line, " P%d", seq)
				}
				seq++
			case 'L':
				seq++
			case 'R':
				seq = 1
			case 'G':
				r := b.Pop(now)
				st := b.Stats()
				fmt.Fprintf(&line, " G=%v", r.Kind)
				if r.Kind == Frame {
					fmt.Fprintf(&line, "%d", r.Header.SequenceNumber)
				}
				fmt.Printf("%4d d=%3.0f T=%3.0f buf=%2d acc=%d late=%d sk=%.4f rs=%d |%s\n", k, ms(st.Delay), ms(st.TargetDelay), st.Buffered, st.Accelerated, st.Late, b.est.skew, st.Resyncs, line.String())
				line.Reset()
				k++
			}
		}
		fmt.Printf("%+v\n", b.Stats())
	}
}

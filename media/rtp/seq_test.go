package rtp

import "testing"

func TestSeqTracker(t *testing.T) {
	type step struct {
		seq  uint16
		want SeqResult
		adv  uint16
	}
	cases := []struct {
		name  string
		steps []step
		exp   uint64
		recv  uint64
	}{
		{"probation then in order", []step{{100, SeqInvalid, 0}, {101, SeqFirst, 0}, {102, SeqInOrder, 1}, {103, SeqInOrder, 1}}, 3, 3},
		{"loss counts in expected", []step{{1, SeqInvalid, 0}, {2, SeqFirst, 0}, {5, SeqInOrder, 3}}, 4, 2},
		{"late and duplicate", []step{{1, SeqInvalid, 0}, {2, SeqFirst, 0}, {4, SeqInOrder, 2}, {3, SeqLate, 0}, {3, SeqDup, 0}, {4, SeqDup, 0}}, 3, 5},
		{"wrap", []step{{65534, SeqInvalid, 0}, {65535, SeqFirst, 0}, {0, SeqInOrder, 1}, {1, SeqInOrder, 1}}, 3, 3},
		{"restart after two sequential past a jump", []step{{1, SeqInvalid, 0}, {2, SeqFirst, 0}, {40000, SeqInvalid, 0}, {40001, SeqFirst, 0}, {40002, SeqInOrder, 1}}, 2, 2},
		{"broken probation restarts it", []step{{1, SeqInvalid, 0}, {9, SeqInvalid, 0}, {10, SeqFirst, 0}}, 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := NewSeqTracker(0)
			for i, s := range c.steps {
				got, adv := tr.Update(s.seq)
				if got != s.want || adv != s.adv {
					t.Fatalf("step %d seq %d: got %v/%d, want %v/%d", i, s.seq, got, adv, s.want, s.adv)
				}
			}
			if e := tr.Expected(); e != c.exp {
				t.Errorf("expected = %d, want %d", e, c.exp)
			}
			if r := tr.Received(); r != c.recv {
				t.Errorf("received = %d, want %d", r, c.recv)
			}
		})
	}
}

func TestSeqTrackerExtendedAcrossWrap(t *testing.T) {
	tr := NewSeqTracker(1)
	seq := uint16(65000)
	for range 2000 {
		tr.Update(seq)
		seq++
	}
	if got, want := tr.Extended(), uint32(65000+1999); got != want {
		t.Fatalf("extended = %d, want %d", got, want)
	}
}

func TestJumped(t *testing.T) {
	for _, c := range []struct {
		last, seq uint16
		want      bool
	}{{10, 11, false}, {10, 10 + MaxDropout, false}, {10, 11 + MaxDropout, true}, {200, 100, false}, {200, 99, true}, {65535, 2, false}} {
		if got := Jumped(c.last, c.seq); got != c.want {
			t.Errorf("Jumped(%d, %d) = %v, want %v", c.last, c.seq, got, c.want)
		}
	}
}

package rtcpstats

import (
	"math"
	"testing"
	"time"
)

func TestEModelWorkedExamples(t *testing.T) {
	// Hand values (G.107 defaults, formulas in emodel.go):
	//
	//   No  = 10·lg(10^−7 + 10^(Nos/10) + 10^(Nor/10) + 10^−6.2) ≈ −61.18 dBm0p
	//   Ro  = 15 − 1.5·(8 − 61.18) ≈ 94.77
	//   Is  = Iolr 0.44 + Ist ≈ 0 + Iq 0.98 ≈ 1.41
	//   Id(T=0) = Idle with Rle = 10.5·117 = 1228.5:
	//             (94.77 − 1228.5)/2 + √(1133.7²/4 + 169) ≈ 0.15
	//   ⇒ R(no impairment) = 94.77 − 1.41 − 0.15 ≈ 93.2,
	//     MOS = 1 + 0.035·93.2 + 93.2·33.2·6.8·7e−6 ≈ 4.41
	//
	//   T = Ta = 150 ms, Tr = 300 ms:
	//     TERV = 65 − 40·lg(16/2) = 28.88, Re = 80 + 2.5·14.88 = 117.2,
	//     Roe = −1.5·(−61.18 − 2) = 94.77,
	//     Idte = (−22.43/2 + √(22.43²/4 + 100) − 1)·(1 − e^−150) ≈ 2.81
	//     Rle = 1228.5·301^−¼ ≈ 294.9, Idle ≈ −100.1 + √(100.1² + 169) ≈ 0.84
	//     X = log2(1.5) = 0.585, Idd = 25·((1+X⁶)^⅙ − 3(1+(X/3)⁶)^⅙ + 2) ≈ 0.16
	//     Id ≈ 3.82
	//   1 % random loss, G.711 PLC: Ie,eff = 95·1/(1/1 + 25.1) = 3.64
	//   ⇒ R ≈ 94.77 − 1.41 − 3.82 − 3.64 ≈ 85.9, MOS ≈ 4.23
	//
	//   1 % loss, G.711 without PLC, no delay: Ie,eff = 95/(1 + 4.3) = 17.92
	//   ⇒ R ≈ 93.2 − 17.92 ≈ 75.3, MOS ≈ 3.83
	//
	//   400 ms: X = 2, Idd = 25·(65^⅙ − 3·(1 + (2/3)⁶)^⅙ + 2)
	//                      = 25·(2.0055 − 3.0424 + 2) ≈ 24.07
	//
	//   G.729A (Ie 11), no loss, no delay: R ≈ 93.2 − 11 = 82.2
	m := DefaultEModel()
	tests := []struct {
		name           string
		c              Conditions
		rMin, rMax     float64
		mosMin, mosMax float64
	}{
		{"no impairment", Conditions{Codec: ImpairmentG711PLC}, 93.1, 93.3, 4.40, 4.42},
		{"150 ms, 1% random, G.711 PLC", Conditions{Delay: 150 * time.Millisecond, Ppl: 1, BurstR: 1, Codec: ImpairmentG711PLC}, 85, 88, 4.1, 4.3},
		{"1% random, G.711 no PLC", Conditions{Ppl: 1, BurstR: 1, Codec: ImpairmentG711NoPLC}, 75.1, 75.5, 3.8, 3.87},
		{"G.729A", Conditions{Codec: ImpairmentG729}, 82.1, 82.3, 4.08, 4.14},
		{"400 ms", Conditions{Delay: 400 * time.Millisecond, Codec: ImpairmentG711PLC}, 61, 64, 3.1, 3.3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := m.Rate(tc.c)
			if got.R < tc.rMin || got.R > tc.rMax {
				t.Errorf("R = %.3f, want %.1f..%.1f (%+v)", got.R, tc.rMin, tc.rMax, got)
			}
			if got.MOS < tc.mosMin || got.MOS > tc.mosMax {
				t.Errorf("MOS = %.3f, want %.2f..%.2f", got.MOS, tc.mosMin, tc.mosMax)
			}
		})
	}
}

func TestEModelTerms(t *testing.T) {
	m := DefaultEModel()
	base := m.Rate(Conditions{})
	near := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.4f, want %.4f ± %v", name, got, want, tol)
		}
	}
	near("Ro", base.Ro, 94.77, 0.01)
	near("Is", base.Is, 1.41, 0.01)
	near("Id(0)", base.Id, 0.15, 0.01)

	d150 := m.Rate(Conditions{Delay: 150 * time.Millisecond})
	near("Idte(150)", d150.Idte, 2.81, 0.01)
	near("Idle(150)", d150.Idle, 0.84, 0.01)
	near("Idd(150)", d150.Idd, 0.164, 0.001)

	near("Idd(400)", m.Rate(Conditions{Delay: 400 * time.Millisecond}).Idd, 24.07, 0.01)
	if idd := m.Rate(Conditions{Delay: 100 * time.Millisecond}).Idd; idd != 0 {
		t.Errorf("Idd(100 ms) = %v, want 0 (Ta ≤ 100 ms)", idd)
	}
	near("Ie,eff(1%, Bpl 25.1)", m.Rate(Conditions{Ppl: 1, Codec: ImpairmentG711PLC}).IeEff, 95.0/26.1, 1e-9)
	// Bursty loss (BurstR 2) hurts more than random: 95·2/(2/2 + 25.1).
	near("Ie,eff(2%, BurstR 2)", m.Rate(Conditions{Ppl: 2, BurstR: 2, Codec: ImpairmentG711PLC}).IeEff, 95*2/26.1, 1e-9)
	// Ie,eff with Ie > 0: 11 + (95 − 11)·1/(1 + 19).
	near("Ie,eff(G.729A, 1%)", m.Rate(Conditions{Ppl: 1, Codec: ImpairmentG729}).IeEff, 11+84.0/20, 1e-9)
}

func TestEModelMonotonic(t *testing.T) {
	m := DefaultEModel()
	prev := math.Inf(1)
	for d := time.Duration(0); d <= 600*time.Millisecond; d += 25 * time.Millisecond {
		r := m.Rate(Conditions{Delay: d, Codec: ImpairmentG711PLC}).R
		if r > prev+1e-9 {
			t.Errorf("R rose with delay at %v: %.3f > %.3f", d, r, prev)
		}
		prev = r
	}
	prev = math.Inf(1)
	for ppl := 0.0; ppl <= 20; ppl += 0.5 {
		r := m.Rate(Conditions{Ppl: ppl, Codec: ImpairmentG711PLC}).R
		if r > prev+1e-9 {
			t.Errorf("R rose with loss at %v%%: %.3f > %.3f", ppl, r, prev)
		}
		prev = r
	}
}

func TestMOS(t *testing.T) {
	tests := []struct{ r, want float64 }{
		{-10, 1},
		{0, 1},
		// 1 + 1.75 + 50·(−10)·50·7e−6 = 2.75 − 0.175
		{50, 2.575},
		// 1 + 2.1 + 0 (R = 60 zeroes the cubic)
		{60, 3.1},
		// 1 + 2.8 + 80·20·20·7e−6 = 3.8 + 0.224
		{80, 4.024},
		{100, 4.5},
		{120, 4.5},
		// The cubic dips under 1 just above R = 0 (R = 5: 1.175 − 0.182);
		// clamped.
		{5, 1},
	}
	for _, tc := range tests {
		if got := MOS(tc.r); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("MOS(%v) = %v, want %v", tc.r, got, tc.want)
		}
	}
}

func TestCodecImpairment(t *testing.T) {
	tests := []struct {
		name string
		plc  bool
		want Impairment
		ok   bool
	}{
		{"PCMU", true, Impairment{0, 25.1}, true},
		{"pcma", false, Impairment{0, 4.3}, true},
		{"G722", false, ImpairmentG722, true},
		{"opus", true, ImpairmentOpus, true},
		{"G729", true, Impairment{11, 19}, true},
		{"AMR", true, ImpairmentG711PLC, false},
	}
	for _, tc := range tests {
		got, ok := CodecImpairment(tc.name, tc.plc)
		if got != tc.want || ok != tc.ok {
			t.Errorf("CodecImpairment(%q, %v) = %+v, %v; want %+v, %v", tc.name, tc.plc, got, ok, tc.want, tc.ok)
		}
	}
}

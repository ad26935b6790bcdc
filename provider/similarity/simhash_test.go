package similarity

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func fp(h Hasher, s string) uint64 { return SimHash(h, Tokenize(Normalize(s))) }

func TestSimHash(t *testing.T) {
	h := NewHasher([]byte("test"), "simhash")
	base := "Earn 500% returns today with our new crypto investment platform, guaranteed profits for every member who signs up this week"
	variant := "Earn 500% returns today with our new crypto investment platform, guaranteed profits for every member who joins this week"
	other := "The weather in Lisbon was lovely this afternoon so we walked along the river and had grilled sardines for dinner"
	if fp(h, base) != fp(h, "  EARN 500% returns today with our NEW crypto investment platform — guaranteed profits for every member who signs up this week!!") {
		t.Error("case, punctuation and spacing must not change the fingerprint")
	}
	if d := Hamming(fp(h, base), fp(h, variant)); d > 12 {
		t.Errorf("one-word variant too far: %d", d)
	}
	if d := Hamming(fp(h, base), fp(h, other)); d < 16 {
		t.Errorf("unrelated texts too close: %d", d)
	}
	ja := "今だけ限定！仮想通貨で毎日確実に利益が出る方法を無料で教えます。今すぐ登録してください"
	ja2 := "今だけ限定！仮想通貨で毎日確実に利益が出る方法を無料で教えます。今すぐ登録して下さい"
	jaOther := "昨日は友達と一緒に公園を散歩して、桜がとてもきれいでした。また来年も行きたいです"
	if d := Hamming(fp(h, ja), fp(h, ja2)); d > 12 {
		t.Errorf("japanese variant too far: %d", d)
	}
	if d := Hamming(fp(h, ja), fp(h, jaOther)); d < 16 {
		t.Errorf("unrelated japanese too close: %d", d)
	}
	if SimHash(h, nil) != 0 {
		t.Error("empty text must give 0")
	}
}

func TestSimHashMatchesNaiveVoting(t *testing.T) {
	h := NewHasher([]byte("k"), "x")
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 700; n += 37 {
		toks := make([]string, n)
		for i := range toks {
			toks[i] = fmt.Sprint(r.IntN(50))
		}
		var votes [64]int
		prev := uint64(0)
		vote := func(x uint64) {
			for b := range 64 {
				if x>>uint(b)&1 == 1 {
					votes[b]++
				} else {
					votes[b]--
				}
			}
		}
		for i, tk := range toks {
			th := h.Sum64(tk)
			vote(th)
			if i > 0 {
				vote(Mix64(prev*0x9e3779b97f4a7c15 ^ th))
			}
			prev = th
		}
		var want uint64
		for b := range 64 {
			if votes[b] > 0 {
				want |= 1 << uint(b)
			}
		}
		if got := SimHash(h, toks); got != want {
			t.Fatalf("n=%d: got %x want %x", n, got, want)
		}
	}
}

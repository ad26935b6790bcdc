package handlers

import (
	"math"
	"strconv"
	"strings"

	"github.com/breakwater-fasp/breakwater/provider"
)

// chart is a bar chart drawn on the server as SVG, so it needs no script:
// the template only places the shapes computed here. Coordinates are in
// viewBox units; the SVG scales to the page width.
type chart struct {
	W, H   int
	Left   float64
	Bottom float64
	Right  float64
	Bars   []chartBar
	Ticks  []chartTick
	Labels []chartLabel
	Empty  bool
}

type chartBar struct {
	Title string
	Segs  []chartSeg
}

type chartSeg struct {
	X, Y, W, H float64
	Class      string
}

type chartTick struct {
	Y    float64
	Text string
}

type chartLabel struct {
	X    float64
	Text string
	// Alt marks every other label, which narrow screens hide.
	Alt bool
}

// series is one stack segment (or grouped bar) of every bucket.
type series struct {
	Class  string
	Label  string
	Values []int64
}

// chartGeometry of every chart: wide enough for 30 bars, text large enough
// to stay readable when the SVG shrinks to a phone's width.
const (
	chartW      = 720
	chartH      = 260
	chartLeft   = 76
	chartRight  = 8
	chartTop    = 16
	chartBottom = 46
)

// barChart lays out buckets as bars; stacked puts the series on top of
// each other, otherwise they stand side by side. labels[i] names bucket i on
// the axis (empty to skip), titles[i] is its tooltip and accessible name.
func barChart(ss []series, labels, titles []string, stacked bool) chart {
	n := len(labels)
	ch := chart{W: chartW, H: chartH, Left: chartLeft, Bottom: chartH - chartBottom, Right: chartW - chartRight}
	var max int64
	for i := 0; i < n; i++ {
		var sum int64
		for _, s := range ss {
			if stacked {
				sum += s.Values[i]
			} else if s.Values[i] > sum {
				sum = s.Values[i]
			}
		}
		if sum > max {
			max = sum
		}
	}
	ch.Empty = max == 0
	top := niceCeil(max)
	plotH := ch.Bottom - chartTop
	slot := (ch.Right - ch.Left) / float64(max1(n))
	barW := slot * 0.75
	for t := 0; t <= 4; t++ {
		v := float64(top) * float64(t) / 4
		ch.Ticks = append(ch.Ticks, chartTick{Y: round1(ch.Bottom - plotH*v/float64(top)), Text: shortNum(v)})
	}
	for i := 0; i < n; i++ {
		x := ch.Left + slot*float64(i) + (slot-barW)/2
		bar := chartBar{Title: titles[i]}
		y := ch.Bottom
		for k, s := range ss {
			v := s.Values[i]
			h := plotH * float64(v) / float64(top)
			if v == 0 {
				continue
			}
			if stacked {
				y -= h
				bar.Segs = append(bar.Segs, chartSeg{X: round1(x), Y: round1(y), W: round1(barW), H: round1(h), Class: s.Class})
			} else {
				w := barW / float64(len(ss))
				bar.Segs = append(bar.Segs, chartSeg{X: round1(x + w*float64(k)), Y: round1(ch.Bottom - h), W: round1(w), H: round1(h), Class: s.Class})
			}
		}
		ch.Bars = append(ch.Bars, bar)
		if labels[i] != "" {
			ch.Labels = append(ch.Labels, chartLabel{X: round1(x + barW/2), Text: labels[i], Alt: len(ch.Labels)%2 == 1})
		}
	}
	return ch
}

// decisionChart draws allow/review/reject per bucket, labelling every
// labelEvery-th bucket with layout.
func decisionChart(cat *catalog, buckets []provider.DecisionBucket, labelEvery int, layout, titleLayout string) chart {
	ss := []series{{Class: "allow"}, {Class: "review"}, {Class: "reject"}}
	labels := make([]string, len(buckets))
	titles := make([]string, len(buckets))
	for i, b := range buckets {
		ss[0].Values = append(ss[0].Values, b.Allow)
		ss[1].Values = append(ss[1].Values, b.Review)
		ss[2].Values = append(ss[2].Values, b.Reject)
		if i%labelEvery == 0 {
			labels[i] = b.Start.UTC().Format(layout)
		}
		titles[i] = cat.T("chart.bucket", b.Start.UTC().Format(titleLayout), b.Allow, b.Review, b.Reject)
	}
	return barChart(ss, labels, titles, true)
}

// gateChart draws sign-ups beside posts per day.
func gateChart(cat *catalog, days []provider.GateDay) chart {
	ss := []series{{Class: "signup"}, {Class: "content"}}
	labels := make([]string, len(days))
	titles := make([]string, len(days))
	for i, d := range days {
		ss[0].Values = append(ss[0].Values, d.Signups)
		ss[1].Values = append(ss[1].Values, d.Posts)
		if i%5 == 0 {
			labels[i] = d.Day.Format("01-02")
		}
		titles[i] = cat.T("chart.gates", d.Day.Format("2006-01-02"), d.Signups, d.Posts)
	}
	return barChart(ss, labels, titles, false)
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, at least 4.
func niceCeil(v int64) int64 {
	if v <= 4 {
		return 4
	}
	p := int64(math.Pow(10, math.Floor(math.Log10(float64(v)))))
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// shortNum writes an axis value compactly: 2.5, 40, 12k, 1.5M.
func shortNum(v float64) string {
	switch {
	case v >= 1_000_000:
		return trimZero(v/1_000_000) + "M"
	case v >= 10_000:
		return trimZero(v/1_000) + "k"
	}
	return trimZero(v)
}

func trimZero(f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

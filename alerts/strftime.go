package alerts

import (
	"strconv"
	"strings"
	"time"
)

// FormatTimestamp expands a timestamp-format the way Pacemaker does: the
// strftime(3) conversions date(1) users know, plus %N for the fraction
// of a second, whose width ("%3N") gives the number of digits (at most
// 6, microseconds). A bare %N gives all 6 digits. Unknown conversions are
// copied as written, so a typo shows up in the agent's output instead of
// dropping the timestamp.
func FormatTimestamp(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(format) && format[j] >= '0' && format[j] <= '9' {
			j++
		}
		if j >= len(format) {
			b.WriteString(format[i:])
			break
		}
		width := -1
		if j > i+1 {
			width, _ = strconv.Atoi(format[i+1 : j])
		}
		if !conv(&b, format[j], width, t) {
			b.WriteString(format[i : j+1])
		}
		i = j
	}
	return b.String()
}

func conv(b *strings.Builder, c byte, width int, t time.Time) bool {
	pad := func(n, w int) { b.WriteString(zeroPad(n, w)) }
	switch c {
	case 'N':
		if width < 0 || width > 6 {
			width = 6
		}
		us := zeroPad(t.Nanosecond()/1000, 6)
		b.WriteString(us[:width])
	case 'Y':
		b.WriteString(strconv.Itoa(t.Year()))
	case 'C':
		pad(t.Year()/100, 2)
	case 'y':
		pad(t.Year()%100, 2)
	case 'm':
		pad(int(t.Month()), 2)
	case 'd':
		pad(t.Day(), 2)
	case 'e':
		b.WriteString(spacePad(t.Day()))
	case 'H':
		pad(t.Hour(), 2)
	case 'k':
		b.WriteString(spacePad(t.Hour()))
	case 'I':
		pad(hour12(t), 2)
	case 'l':
		b.WriteString(spacePad(hour12(t)))
	case 'M':
		pad(t.Minute(), 2)
	case 'S':
		pad(t.Second(), 2)
	case 'j':
		pad(t.YearDay(), 3)
	case 'p':
		b.WriteString(t.Format("PM"))
	case 'P':
		b.WriteString(strings.ToLower(t.Format("PM")))
	case 'a':
		b.WriteString(t.Format("Mon"))
	case 'A':
		b.WriteString(t.Weekday().String())
	case 'b', 'h':
		b.WriteString(t.Format("Jan"))
	case 'B':
		b.WriteString(t.Month().String())
	case 'u':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		b.WriteString(strconv.Itoa(wd))
	case 'w':
		b.WriteString(strconv.Itoa(int(t.Weekday())))
	case 'z':
		b.WriteString(t.Format("-0700"))
	case 'Z':
		b.WriteString(t.Format("MST"))
	case 's':
		b.WriteString(strconv.FormatInt(t.Unix(), 10))
	case 'D':
		b.WriteString(t.Format("01/02/06"))
	case 'F':
		b.WriteString(t.Format("2006-01-02"))
	case 'T':
		b.WriteString(t.Format("15:04:05"))
	case 'R':
		b.WriteString(t.Format("15:04"))
	case 'r':
		b.WriteString(t.Format("03:04:05 PM"))
	case 'c':
		b.WriteString(t.Format("Mon Jan _2 15:04:05 2006"))
	case 'x':
		b.WriteString(t.Format("01/02/06"))
	case 'X':
		b.WriteString(t.Format("15:04:05"))
	case 'n':
		b.WriteByte('\n')
	case 't':
		b.WriteByte('\t')
	case '%':
		b.WriteByte('%')
	default:
		return false
	}
	return true
}

func hour12(t time.Time) int {
	h := t.Hour() % 12
	if h == 0 {
		h = 12
	}
	return h
}

func zeroPad(n, w int) string {
	s := strconv.Itoa(n)
	for len(s) < w {
		s = "0" + s
	}
	return s
}

func spacePad(n int) string {
	if n < 10 {
		return " " + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

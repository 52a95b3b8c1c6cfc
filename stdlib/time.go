package stdlib

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gos3lua/gos3lua/host"
	lua "github.com/yuin/gopher-lua"
)

// time: clocks, sleeping and strftime-style formatting. Times are float
// seconds since the Unix epoch.
var timeFuncs = map[string]lua.LGFunction{
	"now":    timeNow,    // now() → seconds (wall clock, advancing monotonically)
	"sleep":  timeSleep,  // sleep(s): suspends only the calling task
	"format": timeFormat, // format([t,] layout) → string; "!" before layout = UTC
	"parse":  timeParse,  // parse(s [, layout]) → seconds; RFC 3339 by default
}

// TimeLoader is require("time").
func TimeLoader(L *lua.LState) int {
	L.Push(host.Module(L, timeFuncs))
	return 1
}

// now is the wall clock at start plus the monotonic time since: it never
// jumps back when the system clock is set, so differences measure time.
var clockStart = time.Now()

// Now is time.now(): seconds since the epoch, monotonic within a process.
func Now() float64 {
	return float64(clockStart.UnixNano())/1e9 + time.Since(clockStart).Seconds()
}

func timeNow(L *lua.LState) int {
	L.Push(lua.LNumber(Now()))
	return 1
}

func timeSleep(L *lua.LState) int {
	s := float64(L.CheckNumber(1))
	if s < 0 {
		L.ArgError(1, "negative duration")
	}
	return host.Sleep(L, time.Duration(s*float64(time.Second)))
}

func toTime(s float64) time.Time {
	sec := int64(s)
	if float64(sec) > s {
		sec-- // floor for negative times
	}
	return time.Unix(sec, int64((s-float64(sec))*1e9))
}

func timeFormat(L *lua.LState) int {
	var t float64
	var layout string
	switch v := L.Get(1).(type) {
	case lua.LString:
		t, layout = Now(), string(v)
	case lua.LNumber:
		t = float64(v)
		layout = L.OptString(2, "%Y-%m-%d %H:%M:%S")
	case *lua.LNilType:
		t = Now()
		layout = L.OptString(2, "%Y-%m-%d %H:%M:%S")
	default:
		L.ArgError(1, "number or string expected, got "+host.TypeName(v))
	}
	tm := toTime(t).Local()
	if strings.HasPrefix(layout, "!") {
		tm, layout = tm.UTC(), layout[1:]
	}
	return pushStr(L, Strftime(tm, layout))
}

// Strftime formats t like C's strftime: %Y %m %d %H %M %S %j %a %A %b %B
// %y %e %I %p %z %Z %s %u %w %F %T %D %R %c %x %X %n %t %% and %N
// (nanoseconds) and %L (milliseconds). Unknown directives are kept as is.
func Strftime(t time.Time, layout string) string {
	var b strings.Builder
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' || i+1 == len(layout) {
			b.WriteByte(c)
			continue
		}
		i++
		switch layout[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'C':
			fmt.Fprintf(&b, "%02d", t.Year()/100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'L':
			fmt.Fprintf(&b, "%03d", t.Nanosecond()/1e6)
		case 'N':
			fmt.Fprintf(&b, "%09d", t.Nanosecond())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'u':
			w := int(t.Weekday())
			if w == 0 {
				w = 7
			}
			b.WriteString(strconv.Itoa(w))
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case 'z':
			b.WriteString(t.Format("-0700"))
		case 'Z':
			b.WriteString(t.Format("MST"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'F':
			b.WriteString(Strftime(t, "%Y-%m-%d"))
		case 'T':
			b.WriteString(Strftime(t, "%H:%M:%S"))
		case 'R':
			b.WriteString(Strftime(t, "%H:%M"))
		case 'D', 'x':
			b.WriteString(Strftime(t, "%m/%d/%y"))
		case 'X':
			b.WriteString(Strftime(t, "%H:%M:%S"))
		case 'c':
			b.WriteString(Strftime(t, "%a %b %e %H:%M:%S %Y"))
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(layout[i])
		}
	}
	return b.String()
}

// goLayout translates a strftime layout to Go's reference-time layout for
// parsing.
func goLayout(layout string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 == len(layout) {
			return "", fmt.Errorf("layout ends with %%")
		}
		i++
		m := map[byte]string{'Y': "2006", 'y': "06", 'm': "01", 'd': "02", 'e': "_2", 'H': "15", 'I': "03",
			'p': "PM", 'M': "04", 'S': "05", 'j': "002", 'a': "Mon", 'A': "Monday", 'b': "Jan", 'h': "Jan",
			'B': "January", 'z': "-0700", 'Z': "MST", 'F': "2006-01-02", 'T': "15:04:05", '%': "%"}
		s, ok := m[layout[i]]
		if !ok {
			return "", fmt.Errorf("%%%c cannot be parsed", layout[i])
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// parse(s [, layout]) → seconds. Without a layout s is RFC 3339
// ("2024-05-01T12:00:00Z", fractions allowed). A layout without a zone
// reads local time; "!" before the layout reads UTC.
func timeParse(L *lua.LState) int {
	s := L.CheckString(1)
	layout := L.OptString(2, "")
	loc := time.Local
	var t time.Time
	var err error
	if layout == "" {
		t, err = time.Parse(time.RFC3339Nano, s)
	} else {
		if strings.HasPrefix(layout, "!") {
			loc, layout = time.UTC, layout[1:]
		}
		gl, lerr := goLayout(layout)
		if lerr != nil {
			L.ArgError(2, lerr.Error())
		}
		t, err = time.ParseInLocation(gl, s, loc)
	}
	if err != nil {
		want := layout
		if want == "" {
			want = "RFC 3339, e.g. 2024-05-01T12:00:00Z"
		}
		return host.Raise(L, host.Errorf("EINVAL", "time.parse: cannot read %q as %s", s, want))
	}
	L.Push(lua.LNumber(float64(t.Unix()) + float64(t.Nanosecond())/1e9))
	return 1
}

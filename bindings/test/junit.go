package test

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Cases     []junitCase `xml:"testcase"`
	SystemOut string      `xml:"system-out,omitempty"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      string        `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func seconds(d interface{ Seconds() float64 }) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// JUnit renders a run as JUnit XML: a testsuite per file, a testcase per
// test (a file that failed as a whole has a testcase named "(file)").
func JUnit(sum *Summary) ([]byte, error) {
	out := junitSuites{Name: "gos3lua test", Time: seconds(sum.Duration)}
	for _, r := range sum.Files {
		name := r.Path
		if r.Doc {
			name += " (doc)"
		}
		class := strings.TrimSuffix(r.Path, ".lua")
		st := junitSuite{Name: name, Time: seconds(r.Duration), SystemOut: r.Output}
		tests := r.Tests
		if r.Err != nil {
			tests = append(append([]TestResult(nil), tests...), TestResult{Name: "(file)", Where: r.Err.Where, Status: Fail, Failure: r.Err})
		}
		for _, t := range tests {
			c := junitCase{Name: t.Name, Classname: class, Time: seconds(t.Duration), SystemOut: t.Output}
			if file, line, ok := splitWhere(t.Where); ok {
				c.File, c.Line = file, line
			}
			switch t.Status {
			case Fail:
				typ := "assertion"
				if t.Failure.Traceback != "" {
					typ = "error"
					st.Errors++
				} else {
					st.Failures++
				}
				c.Failure = &junitFailure{Message: t.Failure.Head(), Type: typ, Text: t.Failure.String()}
			case Skip:
				c.Skipped = &junitSkipped{Message: t.Skip}
				st.Skipped++
			}
			st.Cases = append(st.Cases, c)
		}
		st.Tests = len(st.Cases)
		out.Tests += st.Tests
		out.Failures += st.Failures + st.Errors
		out.Skipped += st.Skipped
		out.Suites = append(out.Suites, st)
	}
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

// WriteJUnitFile writes JUnit(sum) to path.
func WriteJUnitFile(path string, sum *Summary) error {
	b, err := JUnit(sum)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func splitWhere(w string) (file, line string, ok bool) {
	i := strings.LastIndex(w, ":")
	if i <= 0 {
		return "", "", false
	}
	for _, c := range w[i+1:] {
		if c < '0' || c > '9' {
			return "", "", false
		}
	}
	return w[:i], w[i+1:], i+1 < len(w)
}

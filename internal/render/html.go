package render

import (
	"io"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/render/page"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// HTMLOptions shape the HTML page (see package page).
type HTMLOptions = page.Options

// HTML prints the report as a self-contained HTML page (-o html).
func HTML(w io.Writer, r *report.Report, _ Options) error {
	return HTMLPage(w, r, HTMLOptions{})
}

// HTMLPage writes the report as one self-contained HTML page (package
// page), with the verdict, partial banner and set-aside sentences every
// other format words the same way.
func HTMLPage(w io.Writer, r *report.Report, opts HTMLOptions) error {
	return page.Write(w, r, pageTexts(r), opts)
}

func pageTexts(r *report.Report) page.Texts {
	return page.Texts{
		Verdict:  Outcome(r),
		Partial:  strings.TrimPrefix(PartialBanner(r), "PARTIAL REPORT: "),
		SetAside: SetAside(r),
	}
}

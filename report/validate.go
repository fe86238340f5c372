package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/ghostbench/ghostbench/record"
)

// checkRunDir returns the folder of a bench's run, dir joined with rel,
// after checking that it stays inside dir: rel must be a local path (no
// "..", not absolute) and, once symbolic links are resolved, the folder
// must still lie under dir. A results folder is data, possibly from
// someone else: nothing it names may make report read or write outside it.
func checkRunDir(dir, rel, field string) (string, error) {
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%s: %s is %q, which is not a folder inside the results folder", filepath.Join(dir, BenchFile), field, rel)
	}
	p := filepath.Join(dir, rel)
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if os.IsNotExist(err) {
			return p, nil // nothing there: nothing to escape through
		}
		return "", err
	}
	if r, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(r) {
		return "", fmt.Errorf("%s: %s is %q, which leads outside the results folder (to %s)", filepath.Join(dir, BenchFile), field, rel, real)
	}
	return p, nil
}

// validateRun rejects a run whose numbers are out of their domain: a
// negative count, a ratio outside [0, 1], a non-finite or negative
// duration. It names the file and the field (as its JSON path).
func validateRun(path string, r *record.Run) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"elapsed_s", r.ElapsedSeconds}, {"measured_s", r.MeasuredSeconds}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("%s: %s is %v, want a duration >= 0", path, f.name, f.v)
		}
	}
	if r.Metrics == nil {
		return nil
	}
	m := reflect.ValueOf(r.Metrics).Elem()
	for i := 0; i < m.NumField(); i++ {
		name := jsonName(m.Type().Field(i))
		switch name {
		case "examples", "history", "latency":
			continue // evidence, checked below or not counted
		}
		if err := validateValue(m.Field(i), "metrics."+name); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	for k, h := range r.Metrics.Latency {
		if h == nil {
			continue
		}
		if err := validateValue(reflect.ValueOf(h).Elem(), "metrics.latency."+k); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// validateValue walks v: every integer must be >= 0, every float finite,
// and a float whose field is a ratio, fraction or availability in [0, 1].
func validateValue(v reflect.Value, at string) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return validateValue(v.Elem(), at)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name := jsonName(f)
			if name == "-" || name == "examples" || name == "hdr" {
				continue
			}
			if err := validateValue(v.Field(i), at+"."+name); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if err := validateValue(iter.Value(), at+"."+fmt.Sprint(iter.Key().Interface())); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if err := validateValue(v.Index(i), fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if v.Int() < 0 {
			return fmt.Errorf("%s is %d, want a count >= 0", at, v.Int())
		}
	case reflect.Float64:
		x := v.Float()
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s is %v, want a finite number", at, x)
		}
		last := at[strings.LastIndex(at, ".")+1:]
		if strings.HasSuffix(last, "ratio") || last == "fraction" || last == "availability" {
			if x < 0 || x > 1 {
				return fmt.Errorf("%s is %v, want a ratio in [0, 1]", at, x)
			}
		}
	}
	return nil
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if tag == "" {
		return f.Name
	}
	return strings.Split(tag, ",")[0]
}

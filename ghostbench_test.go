package ghostbench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
)

func TestCacheEncoding(t *testing.T) {
	for _, v := range []Value{{}, {Version: 7, Token: 42, Balance: -1300}, {Version: 1 << 62, Token: 1<<40 | 3, Balance: 9}} {
		got, err := ParseCache(v.MarshalCache())
		if err != nil || got != v {
			t.Errorf("round trip of %v = %v, %v", v, got, err)
		}
	}
	for _, bad := range []string{"", "1:2", "a:b:c", "1:2:3:4", "1::3"} {
		if _, err := ParseCache(bad); !errors.Is(err, ErrBadCacheValue) {
			t.Errorf("ParseCache(%q) = %v, want ErrBadCacheValue", bad, err)
		}
	}
}

func FuzzParseCache(f *testing.F) {
	f.Add("1:2:3")
	f.Add("-1:0:99")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseCache(s)
		if err != nil {
			return
		}
		if again, err := ParseCache(v.MarshalCache()); err != nil || again != v {
			t.Errorf("%q decoded to %v, which does not round-trip: %v, %v", s, v, again, err)
		}
	})
}

func TestClassify(t *testing.T) {
	base := errors.New("boom")
	for _, tc := range []struct {
		err  error
		want ErrClass
	}{
		{nil, ClassNone},
		{base, ClassOther},
		{Redis(base), ClassRedis},
		{Postgres(base), ClassPostgres},
		{Redis(context.DeadlineExceeded), ClassTimeout},
		{Redis(os.ErrDeadlineExceeded), ClassTimeout},
		{Indeterminate(context.DeadlineExceeded), ClassIndeterminate},
		{Redis(Indeterminate(base)), ClassIndeterminate}, // stays indeterminate when rewrapped
		{fmt.Errorf("write: %w", Postgres(base)), ClassPostgres},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("Classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if Redis(nil) != nil || Postgres(nil) != nil || Indeterminate(nil) != nil {
		t.Error("wrapping nil must stay nil")
	}
}

func TestHooks(t *testing.T) {
	var nilHooks *Hooks
	if err := nilHooks.At(context.Background(), PointAfterCommit, 1); err != nil {
		t.Fatal(err)
	}
	var h Hooks
	var seen []string
	h.Set(func(ctx context.Context, p Point, k Key) error {
		a, _ := ActorFrom(ctx)
		seen = append(seen, fmt.Sprintf("%s/%s-%d/%d", p, a.Kind, a.ID, k))
		return nil
	})
	ctx := WithActor(context.Background(), Actor{Kind: "reader", ID: 3})
	_ = h.At(ctx, PointBeforeCacheSet, 9)
	h.Set(nil)
	_ = h.At(ctx, PointBeforeCacheSet, 9)
	if fmt.Sprint(seen) != "[before-cache-set/reader-3/9]" {
		t.Errorf("hook calls = %v", seen)
	}
}

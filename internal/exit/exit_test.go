package exit

import (
	"errors"
	"fmt"
	"testing"
)

func TestCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, OK},
		{errors.New("boom"), Failed},
		{UsageErrorf("bad %s", "flag"), Usage},
		{fmt.Errorf("wrapped: %w", UsageErrorf("bad")), Usage},
		{WithCode(Pending, errors.New("consent")), Pending},
		{SilentCode(Problems), Problems},
		{ErrCancelled, Cancelled},
	}
	for _, tt := range tests {
		if got := Code(tt.err); got != tt.want {
			t.Errorf("Code(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if !IsSilent(SilentCode(1)) || IsSilent(UsageErrorf("x")) {
		t.Error("IsSilent")
	}
	if UsageError(nil) != nil || WithCode(1, nil) != nil {
		t.Error("nil errors must stay nil")
	}
}

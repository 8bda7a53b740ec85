package db

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// sqlLogger adapts GORM's logger to slog: failed statements at debug (the caller sees only a
// coded error), slow ones at warn. SQL text goes to the log, never into a response.
type sqlLogger struct {
	log         *slog.Logger
	onStatement func()
	slow        time.Duration
}

func (l *sqlLogger) LogMode(logger.LogLevel) logger.Interface { return l }

func (l *sqlLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.InfoContext(ctx, msg, "args", args)
}

func (l *sqlLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, msg, "args", args)
}

func (l *sqlLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, msg, "args", args)
}

func (l *sqlLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if l.onStatement != nil {
		l.onStatement()
	}
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && l.log.Enabled(ctx, slog.LevelDebug):
		sql, rows := fc()
		l.log.DebugContext(ctx, "sql failed", "err", err, "sql", sql, "rows", rows, "ms", elapsed.Milliseconds())
	case elapsed > l.slow:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow sql", "sql", sql, "rows", rows, "ms", elapsed.Milliseconds())
	}
}

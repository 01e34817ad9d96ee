package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"postern/access"
)

// Calibration is what a reader measured when asked to calibrate: the
// nearest phone's signal samples (dBm as measured, oldest first), their
// median, and the offset that makes where the phone stood read as the
// access point's threshold.
type Calibration struct {
	Samples []int
	Median  int
	Offset  int
}

// calibrate has the reader of access point id measure the nearest phone
// and saves the offset it found. "Stand at the door and press Calibrate."
func (h *handler) calibrate(ctx context.Context, actor string, id int64) (access.AccessPoint, Calibration, error) {
	a, err := h.store.AccessPointByID(ctx, id)
	if err != nil {
		return a, Calibration{}, err
	}
	if h.calibrateReader == nil {
		return a, Calibration{}, access.Conflict("the reader of %s is not running", a.Name)
	}
	cal, err := h.calibrateReader(id)
	if err != nil {
		return a, cal, err
	}
	detail := fmt.Sprintf("offset %+d dB: the nearest phone read %d dBm (the median of %d samples) against a threshold of %d dBm",
		cal.Offset, cal.Median, len(cal.Samples), a.RSSIThreshold)
	a, err = h.store.CalibrateAccessPoint(ctx, actor, id, cal.Offset, detail)
	return a, cal, err
}

func (h *handler) apiAccessPointCalibrate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	a, cal, err := h.calibrate(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{
		"rssi_offset":  cal.Offset,
		"median_dbm":   cal.Median,
		"samples_dbm":  cal.Samples,
		"access_point": toAccessPointJSON(a),
	})
}

func (h *handler) accessPointCalibrate(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	a, _, err := h.calibrate(c.Request().Context(), actor(c), id)
	if err == nil {
		return redirect(c, "/access-points/"+strconv.FormatInt(id, 10)+"?flash=calibrated")
	}
	v := apForm(a)
	if err := formError(err, v.Errors); err != nil {
		return err
	}
	// What went wrong is about calibrating, not the form above it.
	if msg, ok := v.Errors["form"]; ok {
		delete(v.Errors, "form")
		v.Errors["calibrate"] = msg
	}
	return render(c, http.StatusConflict, accessPointFormPage(pageFor(c, a.Name), v))
}

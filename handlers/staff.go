package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"focalpoint/models"
)

// StaffHome is the staff landing page.
func (h *Handler) StaffHome(c echo.Context) error {
	return h.render(c, http.StatusOK, "staff/home", h.page(c, "staff.home_title"))
}

type createStaffRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

// CreateStaffAPI is POST /api/v1/staff (admin).
func (h *Handler) CreateStaffAPI(c echo.Context) error {
	var req createStaffRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	st, err := h.Store.CreateStaff(c.Request().Context(),
		models.NewStaff{Email: req.Email, Name: req.Name, Role: req.Role, Password: req.Password}, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toMe(st))
}

// DisableStaffAPI is POST /api/v1/staff/{id}/disable (admin).
func (h *Handler) DisableStaffAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	st, err := h.Store.DisableStaff(c.Request().Context(), id, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": st.ID, "email": st.Email, "disabled_at": st.DisabledAt})
}

// ListStaffAPI is GET /api/v1/staff (admin).
func (h *Handler) ListStaffAPI(c echo.Context) error {
	list, err := h.Store.ListStaff(c.Request().Context())
	if err != nil {
		return err
	}
	out := List[models.Staff]{Items: list, Total: int64(len(list))}
	return c.JSON(http.StatusOK, out)
}

// StaffList shows the accounts page with the form for a new one.
func (h *Handler) StaffList(c echo.Context) error {
	return h.staffListPage(c, http.StatusOK, nil, nil)
}

func (h *Handler) staffListPage(c echo.Context, status int, errs models.FieldErrors, form map[string]string) error {
	list, err := h.Store.ListStaff(c.Request().Context())
	if err != nil {
		return err
	}
	p := h.page(c, "staff.accounts_title")
	p.Data = map[string]any{"Accounts": list, "Roles": models.Roles}
	p.Errors, p.Form = errs, form
	return h.render(c, status, "staff/accounts", p)
}

// StaffCreate handles the new-account form.
func (h *Handler) StaffCreate(c echo.Context) error {
	n := models.NewStaff{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role"), Password: c.FormValue("password")}
	_, err := h.Store.CreateStaff(c.Request().Context(), n, CurrentStaff(c))
	var fe models.FieldErrors
	var de *models.Error
	switch {
	case errors.As(err, &fe):
		return h.staffListPage(c, http.StatusUnprocessableEntity, fe, map[string]string{"email": n.Email, "name": n.Name, "role": n.Role})
	case errors.As(err, &de) && de.Code == "duplicate_email":
		return h.staffListPage(c, http.StatusConflict, models.FieldErrors{"email": de.Message}, map[string]string{"email": n.Email, "name": n.Name, "role": n.Role})
	case err != nil:
		return err
	}
	h.flash(c, "staff.created")
	return c.Redirect(http.StatusSeeOther, "/staff/accounts")
}

// StaffSetRole handles the role form of one account.
func (h *Handler) StaffSetRole(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	err = h.Store.SetStaffRole(c.Request().Context(), id, c.FormValue("role"), CurrentStaff(c))
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		return h.staffListPage(c, http.StatusUnprocessableEntity, fe, nil)
	}
	if err != nil {
		return err
	}
	h.flash(c, "staff.role_changed")
	return c.Redirect(http.StatusSeeOther, "/staff/accounts")
}

// StaffDisable handles the disable button.
func (h *Handler) StaffDisable(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Store.DisableStaff(c.Request().Context(), id, CurrentStaff(c)); err != nil {
		return err
	}
	h.flash(c, "staff.disabled_done")
	return c.Redirect(http.StatusSeeOther, "/staff/accounts")
}

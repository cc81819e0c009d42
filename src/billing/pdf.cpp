#include "billing/pdf.h"

#include <map>
#include <memory>
#include <stdexcept>

#include <cairo-pdf.h>
#include <pango/pangocairo.h>

namespace opsmerge::billing {

namespace {

// A4 in points, and the margins.
constexpr double kWidth = 595.276, kHeight = 841.89, kMargin = 48;
constexpr double kBottom = kHeight - kMargin - 24;  // room for the page number
// The table's columns: description, quantity, unit price, VAT rate, net.
constexpr double kColDesc = kMargin, kColQty = 290, kColUnit = 325, kColVat = 400, kColNet = 455;
constexpr double kRight = kWidth - kMargin;
constexpr const char* kFont = "DejaVu Sans";

cairo_status_t Append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

struct SurfaceFree {
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoFree {
  void operator()(cairo_t* c) const { cairo_destroy(c); }
};
struct LayoutFree {
  void operator()(PangoLayout* l) const { g_object_unref(l); }
};
struct FontFree {
  void operator()(PangoFontDescription* f) const { pango_font_description_free(f); }
};

// Draws text with one pango layout for the whole document: making a layout (and
// its context) per string costs more than the drawing.
class Writer {
 public:
  explicit Writer(cairo_t* cr)
      : cr_(cr), layout_(pango_cairo_create_layout(cr)), font_(pango_font_description_new()) {
    pango_font_description_set_family(font_.get(), kFont);
    pango_layout_set_wrap(layout_.get(), PANGO_WRAP_WORD_CHAR);
  }

  // Draws `text` with its top-left at (x, y), wrapped to `width` (0: no wrapping),
  // right-aligned to x + width when `right`. Returns its height.
  double Text(const std::string& text, double x, double y, double size, bool bold = false,
              double width = 0, bool right = false, double grey = 0) {
    double h = Prepare(text, size, bold, width, right);
    cairo_set_source_rgb(cr_, grey, grey, grey);
    cairo_move_to(cr_, x, y);
    pango_cairo_show_layout(cr_, layout_.get());
    return h;
  }
  double Measure(const std::string& text, double size, double width) {
    return Prepare(text, size, false, width, false);
  }
  void Rule(double y, double grey = 0.75) {
    cairo_set_source_rgb(cr_, grey, grey, grey);
    cairo_set_line_width(cr_, 0.6);
    cairo_move_to(cr_, kMargin, y);
    cairo_line_to(cr_, kRight, y);
    cairo_stroke(cr_);
  }

 private:
  double Prepare(const std::string& text, double size, bool bold, double width, bool right) {
    pango_font_description_set_absolute_size(font_.get(), size * PANGO_SCALE);
    pango_font_description_set_weight(font_.get(), bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout_.get(), font_.get());
    pango_layout_set_width(layout_.get(), width > 0 ? static_cast<int>(width * PANGO_SCALE) : -1);
    pango_layout_set_alignment(layout_.get(), right ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
    pango_layout_set_text(layout_.get(), text.c_str(), static_cast<int>(text.size()));
    int w = 0, h = 0;
    pango_layout_get_pixel_size(layout_.get(), &w, &h);
    return h;
  }

  cairo_t* cr_;
  std::unique_ptr<PangoLayout, LayoutFree> layout_;
  std::unique_ptr<PangoFontDescription, FontFree> font_;
};

std::string Percent(int64_t bp) { return FormatQuantity(bp * 10) + "%"; }

}  // namespace

std::string InvoiceFileName(const Invoice& inv) {
  if (inv.number.empty()) return "draft-" + std::to_string(inv.id) + ".pdf";
  std::string name;
  for (char c : inv.number) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    name += ok ? c : '-';
  }
  return name + ".pdf";
}

std::string RenderInvoicePdf(const Invoice& inv) {
  std::string out;
  std::unique_ptr<cairo_surface_t, SurfaceFree> surface(
      cairo_pdf_surface_create_for_stream(Append, &out, kWidth, kHeight));
  std::unique_ptr<cairo_t, CairoFree> cr(cairo_create(surface.get()));
  std::string title = inv.status == InvoiceStatus::kIssued ? "VAT invoice " + inv.number
                      : inv.status == InvoiceStatus::kVoid
                          ? "VOID" + (inv.number.empty() ? "" : " - invoice " + inv.number)
                          : "DRAFT - not an invoice";
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, title.c_str());
  Writer w(cr.get());
  int page = 1;
  double y = kMargin;

  auto footer = [&] {
    w.Text("Page " + std::to_string(page), kMargin, kHeight - kMargin, 8, false, kRight - kMargin,
           true, 0.4);
  };
  auto table_header = [&] {
    w.Text("Description", kColDesc, y, 8.5, true);
    w.Text("Qty", kColQty, y, 8.5, true, kColUnit - kColQty - 6, true);
    w.Text("Unit price", kColUnit, y, 8.5, true, kColVat - kColUnit - 6, true);
    w.Text("VAT rate", kColVat, y, 8.5, true, kColNet - kColVat - 6, true);
    w.Text("Net", kColNet, y, 8.5, true, kRight - kColNet, true);
    y += 14;
    w.Rule(y);
    y += 6;
  };
  auto new_page = [&] {
    footer();
    cairo_show_page(cr.get());
    ++page;
    y = kMargin;
    w.Text(title + " (continued)", kMargin, y, 10, true);
    y += 24;
    table_header();
  };

  // Head: what it is, and the supplier.
  y += w.Text(title, kMargin, y, 18, true) + 4;
  double left = y, right = y;
  if (!inv.supplier_name.empty()) {
    left += w.Text(inv.supplier_name, kMargin, left, 10, true, 250);
    if (!inv.supplier_address.empty())
      left += w.Text(inv.supplier_address, kMargin, left, 9, false, 250);
    if (!inv.vat_number.empty())
      left += w.Text("VAT number " + inv.vat_number, kMargin, left, 9, false, 250);
  }
  auto fact = [&](const std::string& label, const std::string& value) {
    if (value.empty()) return;
    w.Text(label, 330, right, 9, false, 0, false, 0.35);
    right += w.Text(value, 420, right, 9, true, kRight - 420);
  };
  fact("Invoice number", inv.number);
  fact("Issue date", inv.issue_date.empty() ? "" : FormatDateForPeople(*ParseDate(inv.issue_date)));
  fact("Due date", inv.due_date.empty() ? "" : FormatDateForPeople(*ParseDate(inv.due_date)));
  fact("Period", FormatMonthForPeople(inv.month));
  y = std::max(left, right) + 18;

  // The customer.
  w.Text("Bill to", kMargin, y, 9, false, 0, false, 0.35);
  y += 13;
  std::string customer = inv.customer_name.empty() ? inv.client_name : inv.customer_name;
  y += w.Text(customer, kMargin, y, 10, true, 300);
  if (!inv.customer_address.empty()) y += w.Text(inv.customer_address, kMargin, y, 9, false, 300);
  y += 22;

  table_header();
  for (const auto& l : inv.lines) {
    std::string desc = l.description + "\n" + l.working;
    double h = w.Measure(desc, 9, kColQty - kColDesc - 10) + 8;
    if (y + h > kBottom) new_page();
    w.Text(l.description, kColDesc, y, 9, false, kColQty - kColDesc - 10);
    double dh = w.Measure(l.description, 9, kColQty - kColDesc - 10);
    w.Text(l.working, kColDesc, y + dh, 8, false, kColQty - kColDesc - 10, false, 0.4);
    w.Text(FormatQuantity(l.quantity_milli), kColQty, y, 9, false, kColUnit - kColQty - 6, true);
    w.Text(FormatMoney(l.unit_pence), kColUnit, y, 9, false, kColVat - kColUnit - 6, true);
    w.Text(Percent(l.vat_rate_bp), kColVat, y, 9, false, kColNet - kColVat - 6, true);
    w.Text(FormatMoney(l.net_pence), kColNet, y, 9, false, kRight - kColNet, true);
    y += h;
    w.Rule(y - 4, 0.88);
  }

  // Totals, with the VAT by rate (one rate in practice; each shown if more).
  if (y + 70 > kBottom) new_page();
  y += 6;
  auto total = [&](const std::string& label, int64_t pence, bool bold) {
    w.Text(label, 280, y, bold ? 10.5 : 9.5, bold, kColVat - 280, true);
    y +=
        w.Text(FormatMoney(pence), kColVat, y, bold ? 10.5 : 9.5, bold, kRight - kColVat, true) + 3;
  };
  total("Net", inv.net_pence, false);
  std::map<int64_t, int64_t> by_rate;
  for (const auto& l : inv.lines) by_rate[l.vat_rate_bp] += l.vat_pence;
  if (by_rate.empty()) by_rate[0] = 0;
  for (const auto& [rate, vat] : by_rate) total("VAT at " + Percent(rate), vat, false);
  total("Total " + inv.currency, inv.gross_pence, true);
  footer();
  cairo_show_page(cr.get());
  cr.reset();
  cairo_surface_finish(surface.get());
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    throw std::runtime_error(std::string("cannot make the invoice PDF: ") +
                             cairo_status_to_string(cairo_surface_status(surface.get())));
  }
  return out;
}

}  // namespace opsmerge::billing

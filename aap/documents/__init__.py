"""Documents: PDF (WeasyPrint), Excel (openpyxl) and open-data writers."""

#include <gsl/gsl_errno.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_cblas.h>

/* Names the gsl_multifit_nlinear_trust constant, a global Swift imports awkwardly. */
static inline const gsl_multifit_nlinear_type *qoesim_nlinear_trust(void) { return gsl_multifit_nlinear_trust; }
/* OpenBLAS extension: threads used by its GEMMs. */
void openblas_set_num_threads(int num_threads);
char *openblas_get_config(void);

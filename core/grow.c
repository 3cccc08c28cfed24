#include <stdint.h>
#include <stdlib.h>

#include "ctplan/error.h"
#include "grow.h"

int ctp_grow(void **ptr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return CTP_ENOMEM;
		ncap *= 2;
	}
	p = realloc(*ptr, ncap * elem);
	if (!p)
		return CTP_ENOMEM;
	*ptr = p;
	*cap = ncap;
	return 0;
}

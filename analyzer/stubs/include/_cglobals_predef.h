/* cglobals: the compiler environment the analyzer preprocesses under.
 *
 * gcc runs with -undef -nostdinc, so nothing of the host compiler leaks in:
 * this file alone says what platform we analyze (x86_64 Linux, C11) and maps
 * the few extensions that CPython uses outside `#ifdef __GNUC__` guards onto
 * constructs pycparser understands.  __GNUC__ stays undefined on purpose, so
 * CPython takes its portable code paths (C11 atomics, no statement
 * expressions, no __attribute__ soup).  gcc itself still supplies __STDC__,
 * __STDC_VERSION__ (from -std=c11) and the __has_* operators.
 */
#define __STDC_IEC_559__ 1
#define __linux__ 1
#define __linux 1
#define __unix__ 1
#define __unix 1
#define __ELF__ 1
#define __x86_64__ 1
#define __x86_64 1
#define __amd64__ 1
#define __LP64__ 1
#define _LP64 1
#define __CHAR_BIT__ 8
#define __SIZEOF_INT__ 4
#define __SIZEOF_LONG__ 8
#define __SIZEOF_LONG_LONG__ 8
#define __SIZEOF_SHORT__ 2
#define __SIZEOF_POINTER__ 8
#define __SIZEOF_FLOAT__ 4
#define __SIZEOF_DOUBLE__ 8
#define __SIZEOF_LONG_DOUBLE__ 16
#define __SIZEOF_SIZE_T__ 8
#define __SIZEOF_WCHAR_T__ 4
#define __SIZEOF_INT128__ 16
#define __ORDER_LITTLE_ENDIAN__ 1234
#define __ORDER_BIG_ENDIAN__ 4321
#define __ORDER_PDP_ENDIAN__ 3412
#define __BYTE_ORDER__ __ORDER_LITTLE_ENDIAN__
#define __FLOAT_WORD_ORDER__ __ORDER_LITTLE_ENDIAN__
#define __LITTLE_ENDIAN 1234
#define __BIG_ENDIAN 4321
#define __BYTE_ORDER __LITTLE_ENDIAN
#define LITTLE_ENDIAN __LITTLE_ENDIAN
#define BIG_ENDIAN __BIG_ENDIAN
#define BYTE_ORDER __BYTE_ORDER
#define __GLIBC__ 2
#define __GLIBC_MINOR__ 36
#define NDEBUG 1

/* Extensions used without a __GNUC__ guard. */
#define __thread _Thread_local
#define __attribute__(x)
#define __attribute(x)
#define __declspec(x)
#define __extension__
#define __inline inline
#define __inline__ inline
#define __forceinline inline
#define __restrict restrict
#define __restrict__ restrict
#define __volatile__ volatile
#define __const const
#define __signed__ signed
#define __asm__(...)
#define __asm(...)
#define asm(...)
#define __builtin_expect(x, y) (x)
#define __builtin_offsetof(type, member) offsetof(type, member)
#define __builtin_unreachable() ((void)0)
#define __builtin_va_list va_list
#define __has_feature(x) 0
#define __has_extension(x) 0
#define __has_declspec_attribute(x) 0

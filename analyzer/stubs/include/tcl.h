/* cglobals: stand-in for tcl.h */
#ifndef _CGLOBALS_TCL_H
#define _CGLOBALS_TCL_H
#include "_cglobals_libc.h"
#define TCL_MAJOR_VERSION 8
#define TCL_MINOR_VERSION 6
#define TCL_RELEASE_LEVEL 2
#define TCL_RELEASE_SERIAL 13
#define TCL_VERSION "8.6"
#define TCL_PATCH_LEVEL "8.6.13"
#define TCL_OK 0
#define TCL_ERROR 1
#define TCL_UTF_MAX 4
#define TCL_THREADS 1
#define CONST84 const
#define CONST84_RETURN const
#define TCL_DECLARE_MUTEX(name) static Tcl_Mutex name;
typedef struct Tcl_Interp Tcl_Interp;
typedef struct Tcl_Obj { long refCount; char *bytes; int length; const struct Tcl_ObjType *typePtr; union { long longValue; double doubleValue; void *otherValuePtr; struct { void *ptr1; void *ptr2; } twoPtrValue; } internalRep; } Tcl_Obj;
typedef struct Tcl_ObjType { const char *name; void *freeIntRepProc; void *dupIntRepProc; void *updateStringProc; void *setFromAnyProc; } Tcl_ObjType;
typedef struct Tcl_Command_ *Tcl_Command;
typedef struct Tcl_Mutex_ *Tcl_Mutex;
typedef struct Tcl_Condition_ *Tcl_Condition;
typedef struct Tcl_ThreadId_ *Tcl_ThreadId;
typedef struct Tcl_TimerToken_ *Tcl_TimerToken;
typedef struct Tcl_Event Tcl_Event;
typedef struct Tcl_Time { long sec; long usec; } Tcl_Time;
typedef struct Tcl_ThreadDataKey_ *Tcl_ThreadDataKey;
typedef void *ClientData;
typedef int Tcl_Size;
typedef long Tcl_WideInt;
typedef unsigned long Tcl_WideUInt;
typedef unsigned short Tcl_UniChar;
typedef int Tcl_QueuePosition;
typedef struct { char *string; int length; int spaceAvl; char staticSpace[200]; } Tcl_DString;
typedef int Tcl_EventProc(Tcl_Event *evPtr, int flags);
typedef void Tcl_FileProc(ClientData clientData, int mask);
typedef void Tcl_TimerProc(ClientData clientData);
typedef int Tcl_ObjCmdProc(ClientData clientData, Tcl_Interp *interp, int objc, Tcl_Obj *const objv[]);
typedef int Tcl_CmdProc(ClientData clientData, Tcl_Interp *interp, int argc, const char *argv[]);
typedef void Tcl_CmdDeleteProc(ClientData clientData);
typedef char *Tcl_VarTraceProc(ClientData clientData, Tcl_Interp *interp, const char *part1, const char *part2, int flags);
struct Tcl_Event { Tcl_EventProc *proc; struct Tcl_Event *nextPtr; };
#endif

#ifndef CRIFT_NICE_SHIM_H
#define CRIFT_NICE_SHIM_H
/* libnice and the GLib pieces it needs, imported only by RiftNice. */
#include <nice/agent.h>
#include <glib.h>
#include <glib-object.h>

/* g_object_set/g_object_get/g_signal_connect are variadic or macros; Swift can import neither. */
static inline void CRiftNice_set_bool(gpointer object, const char *property, gboolean value) {
    g_object_set(object, property, value, NULL);
}
static inline void CRiftNice_set_uint(gpointer object, const char *property, guint value) {
    g_object_set(object, property, value, NULL);
}
static inline guint CRiftNice_get_uint(gpointer object, const char *property) {
    guint value = 0;
    g_object_get(object, property, &value, NULL);
    return value;
}
static inline void CRiftNice_set_string(gpointer object, const char *property, const char *value) {
    g_object_set(object, property, value, NULL);
}
static inline gulong CRiftNice_signal_connect(gpointer instance, const char *signal, GCallback handler, gpointer data) {
    return g_signal_connect(instance, signal, handler, data);
}
#endif

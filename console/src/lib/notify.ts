/** Toasts. Element Plus's message service with its style imported here (on-demand imports cover components used
 * in templates; a service called from code brings its own CSS). */
import { ElMessage } from 'element-plus'
import 'element-plus/es/components/message/style/css'

export function notifyError(text: string): void {
  ElMessage({ type: 'error', message: text, showClose: true, duration: 6000 })
}

export function notifySuccess(text: string): void {
  ElMessage({ type: 'success', message: text })
}

import { createApp } from 'vue'
import App from './App.vue'
import router from './router'
import './styles.css'

const app = createApp(App)
// A page never shows a stack trace: an error no page caught is logged for developers and told in Chinese.
app.config.errorHandler = (error) => {
  console.warn('未处理的错误', error)
  void import('./lib/notify').then(({ notifyError }) => notifyError('页面出现错误，请刷新后重试'))
}
app.use(router)
app.mount('#app')
